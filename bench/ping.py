"""A trivial event-triggered deployment for measuring event → run latency."""

from __future__ import annotations

from prefect import flow, serve
from prefect.events import DeploymentEventTrigger


@flow(name="bench-ping", flow_run_name="ping-{n}")
def ping(n: int) -> int:
    return n


if __name__ == "__main__":
    serve(ping.to_deployment(name="ping", triggers=[DeploymentEventTrigger(
        expect={"orderpilot.bench.ping"}, parameters={"n": "{{ event.payload.n }}"})]),
        query_seconds=1, print_starting_message=False)
