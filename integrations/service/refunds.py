"""Refund review: triage a request (auto-approve or a person), apply the decision, settle.

Settling a refund-only case calls the payment gateway outside any transaction (network I/O
after commit) with an idempotency key per case, then records the refund on case and order.
Return cases move to awaiting_return; the refund follows inspection of the goods.
"""

from __future__ import annotations

from datetime import datetime

from integrations.db import buyers
from integrations.service import aftersales, case_money
from integrations.service.context import Context, Tx
from integrations.service.views import CaseView
from statemachine import ids
from statemachine.aftersales import AfterSalesCase, CaseKind, CaseState
from statemachine.ports import PaymentGateway
from statemachine.refund_policy import (
    RefundFacts,
    RefundRules,
    granted,
    needs_a_person,
    waiting,
)

ACTOR = "system:refund-review"


def triage(ctx: Context, case_id: int, rules: RefundRules | None = None) -> list[str]:
    """Auto-approve a low-risk request, else put it under review; returns the review reasons."""
    with ctx.tx() as tx:
        case = tx.store.get_case(case_id, lock=True)  # the order's lock: one triage at a time
        if case.state is not CaseState.REQUESTED:
            return [f"already triaged: {case.state.value}"]
        reasons = needs_a_person(_facts(tx, case, ctx.clock.now()), rules or RefundRules())
        trigger = "review" if reasons else "auto_approve"
        aftersales.fire(ctx, tx, case, trigger, ACTOR,
                        {"reason": "; ".join(reasons) or "low risk: approved at once"})
        return reasons


def decide(ctx: Context, case_id: int, approve: bool, reason: str, reviewer: str) -> str:
    """A person's decision on a case under review; InvalidTransition if decided elsewhere."""
    aftersales.fire_case(ctx, case_id, "approve" if approve else "reject",
                         f"reviewer:{reviewer}", {"reason": reason})
    return get(ctx, case_id).state


def settle(ctx: Context, case_id: int, gateway: PaymentGateway) -> str:
    """Refund an accepted refund-only case, or ask for the goods back; returns the new state."""
    case = get(ctx, case_id)
    if case.state not in (CaseState.AUTO_APPROVED.value, CaseState.APPROVED.value):
        return case.state
    if case.kind != CaseKind.REFUND_ONLY.value:
        aftersales.fire_case(ctx, case_id, "await_return", ACTOR, {})
        return get(ctx, case_id).state
    with ctx.tx(readonly=True) as tx:
        payment_ref = tx.store.get_order(ids.ORDER.parse(case.order_id)).payment_ref or ""
        # checked as the step will: the gateway never pays what the store would not record
        due = case_money.checked_amount(tx, tx.store.get_case(case_id))
    result = gateway.refund(payment_ref, due, idempotency_key=f"refund:{case.id}")
    aftersales.fire_case(ctx, case_id, "refund", ACTOR,
                         {"amount": result.amount, "reason": f"gateway {result.ref}"},
                         idempotency_key=f"refund:{case.id}")
    return get(ctx, case_id).state


def get(ctx: Context, case_id: int) -> CaseView:
    with ctx.tx(readonly=True) as tx:
        return CaseView.of(tx.store.get_case(case_id))


def _facts(tx: Tx, case: AfterSalesCase, now: datetime) -> RefundFacts:
    order = tx.store.get_order(case.order_id)
    buyer = buyers.buyer(tx.connection, order.buyer_id)
    others = [c for c in tx.store.cases_of(order.id) if c.id != case.id]
    return RefundFacts(amount=case.requested_amount,
                       buyer_credit=buyer.credit_score, order_age=now - order.created_at,
                       buyer_age=now - buyer.created_at,
                       paid_before=buyers.paid_orders_before(tx.connection, order.buyer_id,
                                                             order.created_at),
                       currency=order.currency,
                       order_granted=granted(others, {c.id: case_money.claims_refunded(tx, c)
                                                      for c in others}),
                       order_waiting=waiting(others, case))
