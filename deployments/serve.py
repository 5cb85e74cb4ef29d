"""`orderpilot serve`: the console in this process; and the console as one long-running flow
run for work pools (`deployments/prefect.yaml`: `prefect deploy --all` + `prefect worker start`).
"""

from __future__ import annotations

import signal
import time
from typing import Any

from prefect import flow, get_run_logger

from deployments.console import Console
from flows.wiring import context
from integrations.events.stopping import stopped_by


def serve_console(database_url: str | None = None, **options: Any) -> None:
    """Run the console until Ctrl-C or SIGTERM."""
    console = Console(context(database_url), **options)
    # SIGINT too: a shell may have started it with SIGINT ignored
    with stopped_by(signal.SIGTERM, signal.SIGINT, stop=console.stop_event):
        console.run_until_stopped()


@flow(name="console", flow_run_name="console", log_prints=False)
def console_service(hours: float = 1.0, database_url: str | None = None) -> dict[str, int]:
    """The console as one run (work pools): the same loops as `orderpilot serve`, for `hours`;
    the deployment's schedule queues the next run, which starts when this one ends."""
    console = Console(context(database_url))
    console.start()
    deadline = time.monotonic() + hours * 3600
    try:
        while not console.stop_event.wait(min(60.0, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                break
            get_run_logger().info("console: %s", dict(console.counts) or "idle")
    finally:
        console.stop()
    return dict(console.counts)
