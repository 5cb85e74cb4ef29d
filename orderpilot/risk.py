"""`pilot.risk`: block and allow lists with evidence and expiry, buyer credit, chargebacks,
sign-up times, live review share, shadow report."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from integrations.db import risk_credit
from integrations.risk import lists_store, operations, shadow
from integrations.risk.budget import shares_report, window_causes
from integrations.risk.views import BlacklistEntryView, CreditChangeView
from integrations.service.context import Context
from integrations.service.inputs import NAME, check_text, check_when, parse_id
from orderpilot.reviews import check_by
from statemachine import limits
from statemachine.errors import InvalidInput
from statemachine.risk.signals import BUYER


class Risk:
    def __init__(self, context: Context):
        self._ctx = context

    def blacklist_order(self, order_id: str, *, by: str, reason: str,
                        kinds: tuple[str, ...] | list[str] = (BUYER,)
                        ) -> list[BlacklistEntryView]:
        """One call: block the order's buyer (and device / phone / address / ip if named),
        with the order id, the reason and who as evidence."""
        number = parse_id("order_id", order_id, "o")
        reason = check_text("reason", reason, limits.REASON, what="a reason")
        with self._ctx.tx() as tx:
            rows = lists_store.blacklist_from_order(
                tx.connection, number, kinds=tuple(kinds), reason=reason, by=check_by(by),
                at=self._ctx.clock.now())
        return [BlacklistEntryView(**r) for r in rows]

    def list_add(self, list_name: str, kind: str, value: str, *, by: str, reason: str,
                 expires_at: datetime | None = None, evidence: list[str] | None = None
                 ) -> BlacklistEntryView:
        """Put one value (an IP may be a CIDR range) on the `block` or `allow` list, with a
        reason, the author, an optional expiry and optional evidence order ids."""
        _check_entry(value, reason, expires_at, evidence)
        with self._ctx.tx() as tx:
            row = operations.add_list_entry(tx.connection, list_name, kind, value,
                                            by=check_by(by), reason=reason,
                                            at=self._ctx.clock.now(), expires_at=expires_at,
                                            evidence=evidence)
        return BlacklistEntryView(**row)

    def blacklist_add(self, kind: str, value: str, *, by: str, reason: str,
                      evidence: list[str] | None = None,
                      expires_at: datetime | None = None) -> BlacklistEntryView:
        """Block one value: `list_add("block", ...)`."""
        return self.list_add("block", kind, value, by=by, reason=reason,
                             expires_at=expires_at, evidence=evidence)

    def allow_add(self, kind: str, value: str, *, by: str, reason: str,
                  expires_at: datetime | None = None) -> BlacklistEntryView:
        """Allow one value (approved at once unless also blocked): `list_add("allow", ...)`."""
        return self.list_add("allow", kind, value, by=by, reason=reason, expires_at=expires_at)

    def lists(self, list_name: str | None = None, *, include_removed: bool = False
              ) -> list[BlacklistEntryView]:
        with self._ctx.tx(readonly=True) as tx:
            rows = lists_store.list_entries(tx.connection, include_removed, list_name)
        return [BlacklistEntryView(**r) for r in rows]

    def blacklist(self, *, include_removed: bool = False) -> list[BlacklistEntryView]:
        return self.lists("block", include_removed=include_removed)

    def list_remove(self, entry_id: int, *, by: str) -> BlacklistEntryView:
        """Take an entry off its list (kept, marked removed, for the audit trail)."""
        if isinstance(entry_id, bool) or not isinstance(entry_id, int) \
                or not 0 < entry_id < 2**63:
            raise InvalidInput({"entry_id": f"expected an entry id, a whole number from 1 "
                                            f"(got {entry_id!r})"})
        with self._ctx.tx() as tx:
            row = lists_store.remove_entry(tx.connection, entry_id, by=check_by(by),
                                           at=self._ctx.clock.now())
        return BlacklistEntryView(**row)

    blacklist_remove = list_remove

    def credit(self, buyer_id: str) -> int:
        buyer_id = _buyer(buyer_id)
        with self._ctx.tx(readonly=True) as tx:
            return risk_credit.credit_score(tx.connection, buyer_id)

    def credit_history(self, buyer_id: str) -> list[CreditChangeView]:
        """Every score change of a buyer with its reason, oldest first."""
        buyer_id = _buyer(buyer_id)
        with self._ctx.tx(readonly=True) as tx:
            risk_credit.credit_score(tx.connection, buyer_id)  # NotFound for unknown buyers
            return [CreditChangeView.of(r)
                    for r in risk_credit.credit_history(tx.connection, buyer_id)]

    def record_chargeback(self, order_id: str, *, by: str, note: str = "chargeback"
                          ) -> CreditChangeView:
        """The payment provider reversed a paid order: deduct the buyer's credit."""
        number = parse_id("order_id", order_id, "o")
        note = check_text("note", note, limits.REASON, what="a note")
        with self._ctx.tx() as tx:
            order = tx.store.get_order(number)
            row = operations.charge_back(self._ctx, tx.connection, order, by=check_by(by),
                                         note=note, at=self._ctx.clock.now())
        return CreditChangeView.of(row)

    def register_buyer(self, buyer_id: str, *, signed_up_at: datetime) -> None:
        """Tell risk control when a buyer really signed up (account age, sign-up to purchase)."""
        buyer_id = _buyer(buyer_id)
        with self._ctx.tx() as tx:
            operations.register_signup(tx.connection, buyer_id, signed_up_at)

    def stats(self, now: datetime | None = None) -> dict[str, Any]:
        """Live decisions over the last hour and day, the review share against the budget, and
        why orders went to review (per window `causes`: reviewed orders per rule, and per
        currency those reviewed because it has no amount band)."""
        when = check_when("now", now) if now is not None else self._ctx.clock.now()
        with self._ctx.tx(readonly=True) as tx:
            report = shares_report(tx.connection, when)
            for name, causes in window_causes(tx.connection, when).items():
                report["windows"][name]["causes"] = causes
        return {"budget": report["budget"], "at": when.isoformat(), "windows": report["windows"]}

    def shadow_report(self) -> dict[str, Any]:
        """Live vs shadow decisions: agreement matrix, per-rule fire counts, bad outcomes."""
        with self._ctx.tx(readonly=True) as tx:
            return shadow.shadow_report(tx.connection)


def _check_entry(value: Any, reason: Any, expires_at: Any, evidence: Any) -> None:
    """A list entry as the store can keep it, as POST /v1/ops/lists checks it: a value and a
    reason of 1–500 characters without NUL or lone surrogates, a storable expiry, at most 100
    evidence order ids. (Before, the Python API and the CLI passed them to the store.)"""
    check_text("value", value, 500, what="a value")
    check_text("reason", reason, limits.REASON, what="a reason")
    if expires_at is not None:
        check_when("expires_at", expires_at)
    if len(evidence or ()) > 100:
        raise InvalidInput({"evidence": f"expected at most 100 order ids (got {len(evidence)})"})
    for i, order_id in enumerate(evidence or []):
        parse_id(f"evidence[{i}]", order_id, "o")


def _buyer(buyer_id: Any) -> str:
    """A buyer id as orders carry it (POST /v1/shop/buyers checks the same pattern)."""
    if not isinstance(buyer_id, str) or not re.fullmatch(NAME, buyer_id):
        raise InvalidInput({"buyer_id": f"expected a buyer id: letters, digits and . _ : - "
                                        f"(1–64 characters) (got {buyer_id!r:.80})"})
    return buyer_id
