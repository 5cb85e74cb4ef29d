"""Our side of a settlement reconciliation: the money movements we booked with a provider.

- the ledger (`payment_records`): captures (late ones too) and refunds, each with the
  provider's id as we recorded it; its provider is the operation's (`op:<key>` rows) or the
  webhook's (`stripe:evt_…`, `alipay:…` rows);
- the disputes table: a chargeback (the provider takes the money: when the dispute opened as
  one, or when the inquiry it began as was escalated or reopened into one, or a person
  corrected its kind to chargeback), and a chargeback won or closed (the provider gives it
  back), at the step that did it. An inquiry moves no money at the provider (Stripe books no
  balance transaction for a `warning_*` dispute, Shopify withdraws nothing): it is not booked,
  opened or closed — only the chargeback it may become (docs/connect.md, Settlement).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.db.sql import Sql
from statemachine import ids
from statemachine.settlement import LedgerEntry

# when the dispute became a chargeback: when the inquiry it began as was escalated (open) or
# reopened (closed) into one — the provider takes the money then — or a person corrected its
# kind to chargeback, else when it opened. The latest of these steps is the one that made it
# the chargeback it is: each changes the kind, escalate / reopen only from an inquiry and
# correct_kind only to the other kind, so a chargeback's last kind step set chargeback. Booked
# at that step's time, never earlier: a settlement period already closed does not change.
# Read by the order's history index.
CHARGED_BACK_AT = ("COALESCE((SELECT MAX(h.at) FROM transition_history h WHERE h.order_id = "
                   "d.order_id AND h.entity = 'dispute' AND h.entity_id = d.id AND h.trigger "
                   "IN ('escalate', 'reopen', 'correct_kind')), d.created_at)")

# when a chargeback was given back: the step that won or closed it (its last: a closed inquiry
# reopened may close again), never before it became the chargeback it is (a won inquiry
# corrected to a chargeback is booked out and back at the correction) — not when its row was
# last written: a later write (a correction, a repair) would move the line into a later
# period. A row with no such step in its history keeps its last write.
GIVEN_BACK_AT = ("COALESCE((SELECT MAX(h.at) FROM transition_history h WHERE h.order_id = "
                 "d.order_id AND h.entity = 'dispute' AND h.entity_id = d.id AND h.trigger "
                 "IN ('win', 'close')), d.updated_at)")

SIGN = {"capture": ("charge", 1), "late_capture": ("charge", 1), "refund": ("refund", -1)}


class SettlementStore:
    def __init__(self, sql: Sql):
        self.sql = sql

    def entries(self, provider: str, start: datetime, end: datetime) -> list[LedgerEntry]:
        """What we booked with `provider` in [start, end), signed as the provider books it."""
        return self._ledger(provider, start, end) + self._disputes(provider, start, end)

    def _ledger(self, provider: str, start: datetime, end: datetime) -> list[LedgerEntry]:
        rows = self.sql.all(
            "SELECT r.kind, r.amount, r.currency, r.provider_ref, r.event_key, r.at, "
            "r.order_id, o.payment_ref, op.provider, op.payment_ref FROM payment_records r "
            "JOIN orders o ON o.id = r.order_id LEFT JOIN payment_operations op ON "
            "r.event_key = 'op:' || op.idem_key WHERE r.at >= :start AND r.at < :end AND "
            "r.kind IN ('capture', 'late_capture', 'refund') ORDER BY r.at, r.id",
            {"start": start, "end": end})
        return [self._entry(r) for r in rows if _provider_of(r) == provider]

    def _entry(self, r: Any) -> LedgerEntry:
        kind, sign = SIGN[r[0]]
        return LedgerEntry(kind, r[3], r[9] or r[7], sign * int(r[1]), r[2],
                           self._at(r[5]), ids.ORDER(r[6]),
                           f"ledger {r[0]} {r[4]}")

    def _disputes(self, provider: str, start: datetime, end: datetime) -> list[LedgerEntry]:
        rows = self.sql.all(
            "SELECT id, provider_ref, payment_ref, amount, currency, at, order_id, "
            "'charged back' FROM (SELECT d.*, " + CHARGED_BACK_AT + " AS at FROM disputes d "
            "WHERE d.provider = :p AND d.kind = 'chargeback') charged WHERE at >= :start AND "
            "at < :end UNION ALL SELECT id, provider_ref, payment_ref, amount, currency, at, "
            "order_id, state FROM (SELECT id, provider_ref, payment_ref, amount, currency, "
            "order_id, state, CASE WHEN given_back > charged THEN given_back ELSE charged END "
            "AS at FROM (SELECT d.*, " + GIVEN_BACK_AT + " AS given_back, " + CHARGED_BACK_AT +
            " AS charged FROM disputes d WHERE d.provider = :p AND d.kind = 'chargeback' AND "
            "d.state IN ('won', 'closed')) steps) given WHERE at >= :start AND at < :end",
            {"p": provider, "start": start, "end": end})
        return [LedgerEntry("dispute", r[1], r[2],
                            (-1 if r[7] == "charged back" else 1) * int(r[3]), r[4],
                            self._at(r[5]), ids.ORDER(r[6]),
                            f"dispute {ids.DISPUTE(r[0])} {r[7]}") for r in rows]

    def _at(self, value: Any) -> datetime:
        at = self.sql.when(value)
        assert at is not None  # the columns are NOT NULL
        return at


def _provider_of(row: Any) -> str:
    """The operation's provider, else the webhook's (the event key's prefix)."""
    return str(row[8] or str(row[4] or "").split(":", 1)[0])
