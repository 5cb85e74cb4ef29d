"""Cancel-after-payment saga: refund through the gateway, then tell the buyer (retrying
network trouble only); a declined refund is recorded and escalated to the staff."""

from __future__ import annotations

from prefect import flow, task

from flows.runs import mark_run, report, transient_only
from flows.wiring import context, notify, payment_gateway
from integrations.service.inputs import parse_id
from integrations.service.settlement import (
    Cancellation,
    cancellation,
    record_failure,
    record_refund,
)
from statemachine.ports import Message, PaymentResult

KIND = "cancel-settlement"


@task(retries=3, retry_delay_seconds=[1, 5, 30], retry_condition_fn=transient_only)
def refund_payment(case: Cancellation) -> PaymentResult:
    return payment_gateway().refund(case.order.payment_ref or "", case.owed,
                                    idempotency_key=case.key)


@task(retries=3, retry_delay_seconds=[1, 5, 30], retry_condition_fn=transient_only)
def tell(event: str, audience: str, case: Cancellation, title: str, body: str) -> None:
    notify(Message(event, audience, title, body, case.order.id))


@flow(name=KIND, flow_run_name="cancel-settlement-{order_id}")
def cancel_settlement(order_id: str, database_url: str | None = None) -> str:
    """Pay back what a cancelled order owes, once; tell the buyer, or the staff on failure."""
    ctx, number = context(database_url), parse_id("order_id", order_id, "o")
    mark_run(order_id, KIND)
    case = cancellation(ctx, number)
    if case.order.state != "cancelled" or case.owed == 0:
        return report(order_id, "nothing to settle", f"{case.order.state}, owes {case.owed}")
    if case.settled:
        return report(order_id, "already settled", case.key)
    try:
        receipt = refund_payment(case)
    except Exception as error:
        record_failure(ctx, case, str(error))
        tell("orderpilot.order.refund_failed", "ops", case,
             f"Refund for cancelled {order_id} failed", str(error))
        mark_run(order_id, KIND, "escalated")
        raise
    record_refund(ctx, case, receipt)
    tell("orderpilot.order.refunded", "buyer", case, f"Order {order_id} cancelled and refunded",
         f"We refunded {case.owed / 100:,.2f} {case.order.currency} (ref {receipt.ref}).")
    return report(order_id, "refunded", f"{case.owed} via {receipt.ref}")
