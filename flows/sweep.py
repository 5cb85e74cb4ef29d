"""The deadline sweep: fire every due timer (scheduled every minute) and leave a summary."""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows.wiring import context, run_name_from
from integrations.service.sweep import sweep


def run_name() -> str:
    """`deadline-sweep-<HHMM>` from the `now` parameter, or the flow's start time."""
    return run_name_from("deadline-sweep", "now")


@flow(name="deadline-sweep", flow_run_name=run_name)
def deadline_sweep(now: datetime | None = None, batch: int | None = None,
                   database_url: str | None = None) -> dict[str, int]:
    """Fire every deadline due at `now` (default: the store's clock); counts per kind."""
    ctx = context(database_url)
    when = now or ctx.clock.now()
    counts = sweep(ctx, when, batch or ctx.settings.sweep_batch)
    create_markdown_artifact(key="deadline-sweep", markdown=summary(when, counts),
                             description=f"deadlines fired at {when.isoformat()}")
    get_run_logger().info("sweep at %s: %s", when.isoformat(), counts or "nothing due")
    return counts


def summary(when: datetime, counts: dict[str, int]) -> str:
    """A markdown table of fired deadlines per kind (stale rows counted apart)."""
    rows = "\n".join(f"| {kind} | {n} |" for kind, n in sorted(counts.items())) or "| – | 0 |"
    fired = sum(n for kind, n in counts.items() if kind != "stale")
    return (f"# Deadline sweep at {when.isoformat(timespec='seconds')}\n\n"
            f"{fired} deadline(s) fired, {counts.get('stale', 0)} stale row(s) dropped.\n\n"
            f"| kind | count |\n|---|---|\n{rows}\n")
