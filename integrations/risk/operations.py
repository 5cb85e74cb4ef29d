"""Risk operations every entry point shares (Python API, CLI, webhooks): chargebacks lower the
buyer's credit, sign-up times, list entries. Each runs in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.db import risk_signals
from integrations.db.sql import Sql
from integrations.risk import credit_store, lists_store
from integrations.risk.hooks import CreditHook
from statemachine.errors import GuardRejected, InvalidInput
from statemachine.order_aggregate import Order
from statemachine.risk.credit import CreditEventKind
from statemachine.risk.ruleset import CreditPolicy


def credit_policy(ctx: Any) -> CreditPolicy:
    """The policy the context's credit hook applies (the rule set's), else the defaults."""
    return next((h.policy for h in ctx.hooks if isinstance(h, CreditHook)), CreditPolicy())


def charge_back(ctx: Any, conn: Any, order: Order, *, by: str, note: str,
                at: datetime) -> dict[str, Any]:
    """The provider reversed a paid order: the buyer's credit drops (chargeback event)."""
    if order.paid == 0:
        raise GuardRejected("order", order.public_id, order.state.value, "chargeback",
                            "nothing was paid on this order")
    return credit_store.record_credit_event(
        conn, order.buyer_id, CreditEventKind.CHARGEBACK, order_id=order.id, note=note,
        actor=by, at=at, policy=credit_policy(ctx))


def register_signup(conn: Any, buyer_id: str, signed_up_at: datetime) -> None:
    """When the buyer really signed up (account age, sign-up to purchase): kept per buyer."""
    if not isinstance(buyer_id, str) or not 0 < len(buyer_id) <= 64:
        raise InvalidInput({"buyer_id": f"expected 1-64 characters (got {buyer_id!r})"})
    if not isinstance(signed_up_at, datetime) or signed_up_at.tzinfo is None:
        raise InvalidInput({"signed_up_at": f"expected a timezone-aware datetime "
                                            f"(got {signed_up_at!r})"})
    risk_signals.register_signup(Sql(conn), buyer_id, signed_up_at)


def add_list_entry(conn: Any, list_name: str, kind: str, value: str, *, by: str,
                   reason: str, at: datetime, expires_at: datetime | None = None,
                   evidence: list[str] | None = None) -> dict[str, Any]:
    """Put a value on the block or allow list (see `lists_store.add_entry`)."""
    return lists_store.add_entry(conn, kind, value, reason=reason, by=by, at=at,
                                 evidence=evidence, list_name=list_name, expires_at=expires_at)
