"""What a case's refund may pay: one rule (statemachine.aftersales.amount_due and
refund_allowed_now) on the facts read here, for every path that refunds a case (the `refund`
step, the provider refund, settling a refund-only case)."""

from __future__ import annotations

from typing import Any

from integrations.db.fulfil_store import FulfilStore
from integrations.service.context import Tx
from statemachine.aftersales import (
    CLAIMS_REFUNDED,
    ORDER_REFUNDABLE,
    UNITS_LEFT,
    UNITS_TO_SETTLE,
    AfterSalesCase,
    amount_due,
    refund_allowed_now,
)
from statemachine.errors import GuardRejected


def refund_facts(tx: Tx, case: AfterSalesCase) -> dict[str, Any]:
    """The facts a case's refund is decided on: what claims on its return parcels refunded,
    what its order can still refund, the units it settles and those not refunded yet."""
    order = tx.store.get_order(case.order_id)
    return {CLAIMS_REFUNDED: claims_refunded(tx, case),
            ORDER_REFUNDABLE: order.paid - order.refunded,
            UNITS_TO_SETTLE: units_to_settle(tx, case),
            UNITS_LEFT: {ln.line_no: ln.quantity - ln.refunded_quantity for ln in order.lines}}


def claims_refunded(tx: Tx, case: AfterSalesCase) -> int:
    """What claims on the case's own return parcels refunded (its lost return parcels' goods)."""
    return FulfilStore.on(tx.store.sql).case_claims_refunded(case.id)


def units_to_settle(tx: Tx, case: AfterSalesCase) -> dict[int, int]:
    """Per line, the units a case's refund settles, whatever its amount (docs/fulfilment.md):
    its lines less the units its lost return parcels' claims refunded (they marked those)."""
    claimed = FulfilStore.on(tx.store.sql).case_claimed_units(case.id)
    return {ln.line_no: ln.quantity - claimed.get(ln.line_no, 0) for ln in case.lines
            if ln.quantity > claimed.get(ln.line_no, 0)}


def checked_amount(tx: Tx, case: AfterSalesCase, amount: int | None = None) -> int:
    """`amount` (default: the case's amount due) as the `refund` step will check it, before any
    money moves: GuardRejected if the step would refuse it."""
    facts = refund_facts(tx, case)
    amount = amount_due(case, facts[CLAIMS_REFUNDED]) if amount is None else amount
    refusal = refund_allowed_now(case, {"amount": amount, **facts})
    if refusal is not None:
        raise GuardRejected("case", case.public_id, case.state.value, "refund", refusal)
    return amount
