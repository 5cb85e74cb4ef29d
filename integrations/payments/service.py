"""The payment gateway wired to the store: capture an order, refund an after-sales case.

Money moves at the gateway first (with an idempotency key derived from the order or case, so a
retry never charges twice), then the result goes through the same path as a gateway webhook.
Transient gateway errors propagate for the caller to retry with the same key; permanent ones
propagate for it to compensate (cancel the order, escalate the case).
"""

from __future__ import annotations

from integrations.ingest import handlers
from integrations.ingest.events import PaymentEvent
from integrations.service import aftersales
from integrations.service.context import Context
from statemachine.aftersales import CASE_LIFECYCLE
from statemachine.errors import InvalidTransition
from statemachine.ports import PaymentGateway, PaymentResult, RefundLine


def capture_order(ctx: Context, gateway: PaymentGateway, order_no: int) -> PaymentResult:
    """Charge the order's total and pay the order with the capture."""
    with ctx.tx(readonly=True) as tx:
        order = tx.store.get_order(order_no)
    result = gateway.capture(order.public_id, order.total, order.currency,
                             idempotency_key=f"capture:{order.public_id}")
    handlers.payment_event(ctx, PaymentEvent(
        event_id=result.ref, type="succeeded", order_id=order.public_id, amount=result.amount,
        currency=result.currency, payment_ref=result.ref))
    return result


def refund_case(ctx: Context, gateway: PaymentGateway, case_no: int, actor: str,
                amount: int | None = None) -> PaymentResult:
    """Refund a case's lines at the gateway, then settle the case (and the order) with it."""
    with ctx.tx(readonly=True) as tx:
        case = tx.store.get_case(case_no)
        order = tx.store.get_order(case.order_id)
    if not CASE_LIFECYCLE.can(case.state, "refund"):  # refuse before any money moves
        raise InvalidTransition("case", case.public_id, case.state.value, "refund",
                                CASE_LIFECYCLE.allowed(case.state))
    amount = amount or case.requested_amount
    lines = tuple(RefundLine(ln.line_no, ln.quantity, ln.amount) for ln in case.lines) \
        if amount == case.requested_amount else ()
    key = f"refund:{case.public_id}"
    result = gateway.refund(order.payment_ref or "", amount, idempotency_key=key, lines=lines)
    aftersales.fire_case(ctx, case_no, "refund", actor, {"amount": amount}, key)
    handlers.payment_event(ctx, PaymentEvent(
        event_id=result.ref, type="refunded", order_id=order.public_id, amount=amount,
        payment_ref=order.payment_ref or result.payment_ref, case_id=case.public_id))
    return result
