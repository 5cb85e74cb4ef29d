"""Every orderpilot deployment, with its schedule or event trigger, served from one process.

`orderpilot serve` (embedded: runs flows as subprocesses of this process) — for work pools
use `deployments/prefect.yaml` with `prefect deploy --all`.
"""

from __future__ import annotations

from typing import Any

from prefect import serve
from prefect.events import DeploymentEventTrigger

from flows.cancellation import cancel_settlement
from flows.carrier_kpi import carrier_kpi
from flows.logistics import stall_alert
from flows.refund_review import refund_review
from flows.relay import outbox_relay
from flows.review_budget import review_budget_watch
from flows.risk_review import review_overdue, risk_review
from flows.sweep import deadline_sweep

ORDER_RESOURCE = {"prefect.resource.id": "orderpilot.order.*"}


def on_event(name: str, **parameters: str) -> DeploymentEventTrigger:
    """Run the deployment once per `name` event, parameters templated from the event."""
    return DeploymentEventTrigger(name=f"on {name}", expect={name}, match=ORDER_RESOURCE,
                                  parameters=parameters)


def deployments(relay_every: int = 10, sweep_cron: str = "* * * * *") -> list[Any]:
    """The deployments `orderpilot serve` runs (names match deployments/prefect.yaml)."""
    order = "{{ event.payload.order_id }}"
    return [
        outbox_relay.to_deployment(name="outbox-relay", interval=relay_every,
                                   concurrency_limit=1, tags=["kind:relay"]),
        deadline_sweep.to_deployment(name="deadline-sweep", cron=sweep_cron,
                                     concurrency_limit=1, tags=["kind:sweep"]),
        carrier_kpi.to_deployment(name="carrier-kpi", cron="0 6 1 * *", tags=["kind:kpi"]),
        review_budget_watch.to_deployment(name="review-budget-watch", cron="*/15 * * * *",
                                          concurrency_limit=1, tags=["kind:risk"]),
        risk_review.to_deployment(name="risk-review", triggers=[
            on_event("orderpilot.order.under_review", order_id=order)]),
        review_overdue.to_deployment(name="review-overdue", triggers=[
            on_event("orderpilot.order.review_overdue", order_id=order)]),
        refund_review.to_deployment(name="refund-review", triggers=[
            on_event("orderpilot.case.requested", order_id=order,
                     case_id="{{ event.payload.case_id }}")]),
        cancel_settlement.to_deployment(name="cancel-settlement", triggers=[
            on_event("orderpilot.order.cancelled", order_id=order)]),
        stall_alert.to_deployment(name="stall-alert", triggers=[
            on_event("orderpilot.shipment.stalled", order_id=order,
                     shipment_id="{{ event.payload.shipment_id }}")]),
    ]


def serve_all(relay_every: int = 10, poll_seconds: float = 1.0) -> None:
    """Serve every deployment until interrupted; `poll_seconds` bounds event → run latency."""
    serve(*deployments(relay_every), query_seconds=poll_seconds)


if __name__ == "__main__":
    serve_all()
