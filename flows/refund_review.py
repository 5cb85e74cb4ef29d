"""Refund review: low-risk requests approved at once, the rest decided by a person; then
the case is driven on (refund through the gateway, or a return is awaited)."""

from __future__ import annotations

from prefect import flow
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from pydantic import Field

from flows.dossier_markdown import refund_markdown
from flows.runs import mark_run, order_artifact, report
from flows.wiring import context, notify, payment_gateway
from integrations.service.inputs import parse_id
from integrations.service.refunds import decide, get, settle, triage
from statemachine.errors import InvalidTransition
from statemachine.ports import Message

KIND = "refund-review"


class RefundDecision(RunInput):
    """Approve or reject the refund request."""

    approve: bool = Field(description="On: approve the refund (or the return). Off: reject.")
    reason: str = Field(min_length=1, max_length=500, description="Why; kept in the history.")
    reviewer: str = Field(min_length=1, max_length=100, description="Your name.")


@flow(name=KIND, flow_run_name="refund-review-{order_id}-{case_id}")
def refund_review(order_id: str, case_id: str, timeout_seconds: int | None = None,
                  poll_seconds: int = 5, database_url: str | None = None) -> str:
    """Triage the request; if a person must decide, wait for them; then settle the case."""
    ctx, number = context(database_url), parse_id("case_id", case_id, "c")
    mark_run(order_id, KIND, f"case:{case_id}")
    reasons = triage(ctx, number)
    case = get(ctx, number)
    if case.state == "under_review":
        markdown = refund_markdown(case, reasons)
        order_artifact(order_id, markdown, f"refund review of {case_id}")
        timeout = timeout_seconds or int(ctx.timeouts.aftersales_sla.total_seconds())
        try:
            answer = pause_flow_run(wait_for_input=RefundDecision.with_initial_data(
                description=markdown), timeout=timeout, poll_interval=poll_seconds)
        except FlowPauseTimeout:
            return _escalate(order_id, case_id, timeout)
        try:
            decide(ctx, number, answer.approve, answer.reason, answer.reviewer)
        except InvalidTransition as error:
            return report(order_id, "already decided", str(error))
    state = settle(ctx, number, payment_gateway())
    return report(order_id, state, f"{case_id} ({case.kind}, {case.requested_amount}): "
                                   f"{'; '.join(reasons) or 'approved at once'}")


def _escalate(order_id: str, case_id: str, waited: int) -> str:
    mark_run(order_id, KIND, "escalated")
    notify(Message("orderpilot.case.sla_breached", "ops",
                   f"Refund request {case_id} of {order_id} is overdue",
                   f"No decision after {waited} s; the after-sales SLA is breached.", order_id))
    return report(order_id, "escalated", f"{case_id}: no decision within {waited} s")
