"""`pilot.risk`: blacklists with evidence, buyer credit, chargebacks, sign-up times, shadow
report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from integrations.db.schema_risk import BuyerProfileRow
from integrations.risk import blacklist_store, credit_store, shadow
from integrations.risk.budget import live_shares
from integrations.risk.hooks import CreditHook
from integrations.risk.settings import RiskSettings
from integrations.risk.views import BlacklistEntryView, CreditChangeView
from integrations.service.context import Context
from integrations.service.inputs import check_when, parse_id
from orderpilot.reviews import check_by
from statemachine.errors import GuardRejected, InvalidInput
from statemachine.risk.credit import CreditEventKind
from statemachine.risk.ruleset import CreditPolicy
from statemachine.risk.signals import BUYER

PROFILES = BuyerProfileRow.__table__


class Risk:
    def __init__(self, context: Context):
        self._ctx = context
        self._policy = next((h.policy for h in context.hooks if isinstance(h, CreditHook)),
                            CreditPolicy())

    def blacklist_order(self, order_id: str, *, by: str, reason: str,
                        kinds: tuple[str, ...] | list[str] = (BUYER,)
                        ) -> list[BlacklistEntryView]:
        """One call: list the order's buyer (and device / phone / address / ip if named),
        with the order id, the reason and who as evidence."""
        number = parse_id("order_id", order_id, "o")
        with self._ctx.tx() as tx:
            rows = blacklist_store.blacklist_from_order(
                tx.connection, number, kinds=tuple(kinds), reason=reason, by=check_by(by),
                at=self._ctx.clock.now())
        return [BlacklistEntryView(**r) for r in rows]

    def blacklist_add(self, kind: str, value: str, *, by: str, reason: str,
                      evidence: list[str] | None = None) -> BlacklistEntryView:
        """List one value (an IP may be a CIDR range) with optional evidence order ids."""
        for i, order_id in enumerate(evidence or []):
            parse_id(f"evidence[{i}]", order_id, "o")
        with self._ctx.tx() as tx:
            row = blacklist_store.add_entry(tx.connection, kind, value, reason=reason,
                                            by=check_by(by), at=self._ctx.clock.now(),
                                            evidence=evidence)
        return BlacklistEntryView(**row)

    def blacklist(self, *, include_removed: bool = False) -> list[BlacklistEntryView]:
        with self._ctx.tx(readonly=True) as tx:
            rows = blacklist_store.list_entries(tx.connection, include_removed)
        return [BlacklistEntryView(**r) for r in rows]

    def blacklist_remove(self, entry_id: int, *, by: str) -> BlacklistEntryView:
        """Take an entry off the list (kept, marked removed, for the audit trail)."""
        with self._ctx.tx() as tx:
            row = blacklist_store.remove_entry(tx.connection, entry_id, by=check_by(by),
                                               at=self._ctx.clock.now())
        return BlacklistEntryView(**row)

    def credit(self, buyer_id: str) -> int:
        with self._ctx.tx(readonly=True) as tx:
            return credit_store.credit_score(tx.connection, buyer_id)

    def credit_history(self, buyer_id: str) -> list[CreditChangeView]:
        """Every score change of a buyer with its reason, oldest first."""
        with self._ctx.tx(readonly=True) as tx:
            credit_store.credit_score(tx.connection, buyer_id)  # NotFound for unknown buyers
            return [CreditChangeView.of(r)
                    for r in credit_store.credit_history(tx.connection, buyer_id)]

    def record_chargeback(self, order_id: str, *, by: str, note: str = "chargeback"
                          ) -> CreditChangeView:
        """The payment provider reversed a paid order: deduct the buyer's credit."""
        number = parse_id("order_id", order_id, "o")
        with self._ctx.tx() as tx:
            order = tx.store.get_order(number)
            if order.paid == 0:
                raise GuardRejected("order", order.public_id, order.state.value, "chargeback",
                                    "nothing was paid on this order")
            row = credit_store.record_credit_event(
                tx.connection, order.buyer_id, CreditEventKind.CHARGEBACK, order_id=number,
                note=note, actor=check_by(by), at=self._ctx.clock.now(), policy=self._policy)
        return CreditChangeView.of(row)

    def register_buyer(self, buyer_id: str, *, signed_up_at: datetime) -> None:
        """Tell risk control when a buyer really signed up (account age, sign-up to purchase)."""
        if not isinstance(buyer_id, str) or not 0 < len(buyer_id) <= 64:
            raise InvalidInput({"buyer_id": f"expected 1-64 characters (got {buyer_id!r})"})
        when = check_when("signed_up_at", signed_up_at)
        with self._ctx.tx() as tx:
            _upsert_profile(tx.connection, buyer_id, when)

    def stats(self, now: datetime | None = None) -> dict[str, Any]:
        """Live decisions over the last hour and day, the review share and the budget."""
        budget = RiskSettings().review_budget
        when = check_when("now", now) if now is not None else self._ctx.clock.now()
        with self._ctx.tx(readonly=True) as tx:
            shares = live_shares(tx.connection, when, budget)
        return {"budget": budget, "at": when.isoformat(), "windows": shares}

    def shadow_report(self) -> dict[str, Any]:
        """Live vs shadow decisions: agreement matrix, per-rule fire counts, bad outcomes."""
        with self._ctx.tx(readonly=True) as tx:
            return shadow.shadow_report(tx.connection)


def _upsert_profile(conn: Any, buyer_id: str, when: datetime) -> None:
    make = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    if conn.dialect.name not in ("sqlite", "postgresql"):
        raise InvalidInput({"database_url": "register_buyer supports SQLite and PostgreSQL"})
    statement = make(PROFILES).values(buyer_id=buyer_id, signed_up_at=when)
    conn.execute(statement.on_conflict_do_update(index_elements=["buyer_id"],
                                                 set_={"signed_up_at": when}))
