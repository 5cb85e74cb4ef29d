"""Risk review of an order held by the risk engine: a person decides in the Prefect UI."""

from __future__ import annotations

from prefect import flow
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from pydantic import Field

from flows.dossier_markdown import review_markdown
from flows.runs import add_tags, mark_run, order_artifact, paused_runs, report
from flows.wiring import context, notify
from integrations.risk.errors import ReviewAlreadyDecided
from integrations.service.inputs import parse_id
from integrations.service.reviews import Decision, decide, dossier
from statemachine.errors import InvalidTransition
from statemachine.ports import Message

KIND = "risk-review"
GRACE = 3  # the form stays open 3 SLAs; the SLA itself escalates through `review-overdue`


class ReviewDecision(RunInput):
    """Approve or reject the held order."""

    approve: bool = Field(description="On: approve (the buyer can pay). Off: reject.")
    reason: str = Field(min_length=1, max_length=500, description="Why; kept in the history.")
    blacklist_buyer: bool = Field(False, description="Also blacklist the buyer.")
    reviewer: str = Field(min_length=1, max_length=100, description="Your name.")


@flow(name=KIND, flow_run_name="risk-review-{order_id}")
def risk_review(order_id: str, timeout_seconds: int | None = None, poll_seconds: int = 5,
                database_url: str | None = None) -> str:
    """Show the case, wait for a reviewer's decision, apply it; escalate when the SLA lapses."""
    ctx, number = context(database_url), parse_id("order_id", order_id, "o")
    mark_run(order_id, KIND)
    case = dossier(ctx, number)
    markdown = review_markdown(case)
    order_artifact(order_id, markdown, f"risk review of {order_id}")
    if case.order.state != "under_review":
        return report(order_id, "already decided", f"the order is {case.order.state}")
    timeout = timeout_seconds or int(GRACE * ctx.timeouts.review_sla.total_seconds())
    try:
        answer = pause_flow_run(wait_for_input=ReviewDecision.with_initial_data(
            description=markdown), timeout=timeout, poll_interval=poll_seconds)
    except FlowPauseTimeout:
        return escalate(order_id, f"no decision within {timeout} s; the form has closed")
    try:
        state = decide(ctx, number, Decision(**answer.model_dump(
            include={"approve", "reason", "reviewer", "blacklist_buyer"})))
    except (InvalidTransition, ReviewAlreadyDecided) as error:
        return report(order_id, "already decided", str(error))
    outcome = "approved" if answer.approve else "rejected"
    return report(order_id, outcome, f"by {answer.reviewer}: {answer.reason} → {state}")


@flow(name="review-overdue", flow_run_name="review-overdue-{order_id}")
def review_overdue(order_id: str, database_url: str | None = None) -> str:
    """The review SLA lapsed (`orderpilot.order.review_overdue`): tag the waiting review, tell
    the staff; the form stays open."""
    ctx, number = context(database_url), parse_id("order_id", order_id, "o")
    mark_run(order_id, "review-overdue")
    state = dossier(ctx, number).order.state
    if state != "under_review":
        return report(order_id, "already decided", f"the order is {state}")
    for run in paused_runs(order_id, KIND):
        add_tags(run, "escalated")
    return escalate(order_id, "the review SLA lapsed; the form is still open in the Prefect UI")


def escalate(order_id: str, why: str) -> str:
    """Tag this run `escalated` and tell the staff channel."""
    mark_run(order_id, KIND, "escalated")
    notify(Message("orderpilot.order.review_overdue", "ops",
                   f"Risk review of {order_id} is overdue",
                   f"{why}. Decide in the Prefect UI or with "
                   f"`orderpilot order fire {order_id} approve|reject`.", order_id))
    return report(order_id, "escalated", why)
