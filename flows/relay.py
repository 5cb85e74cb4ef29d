"""The outbox relay as a flow: drain unpublished outbox rows into the Prefect event stream."""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows.wiring import context, event_sink
from integrations.events.relay import drain


@flow(name="outbox-relay", log_prints=False, retries=0)
def outbox_relay(batch: int = 500, database_url: str | None = None,
                 api_url: str | None = None) -> int:
    """Publish every waiting outbox row as a Prefect event; a failed POST fails the run."""
    sink = event_sink(api_url)
    try:
        published = drain(context(database_url), sink, batch)
    finally:
        sink.close()
    get_run_logger().info("published %d event(s)", published)
    return published
