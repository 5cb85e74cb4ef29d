"""`orderpilot replay`: real order histories on a simulated clock. (The benchmarks are
`python -m bench` in a source checkout: `bench/` is not shipped, so the CLI does not reach up
into it.)"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from integrations.notifications.masking import mask_url
from integrations.replay.olist import ColumnMap
from integrations.replay.report import Report
from integrations.replay.runner import ReplayOptions, replay
from orderpilot.cli_common import errors

console = Console()


def replay_command(
    path: Annotated[Path, typer.Argument(help="orders CSV (gzip or plain), Olist columns")],
    out: Annotated[Path | None, typer.Option(help="write the JSON report here")] = None,
    db: Annotated[str | None, typer.Option("--db", help="fresh database URL "
                                           "(default: a new SQLite file in a temp dir)")] = None,
    limit: Annotated[int | None, typer.Option(help="replay only the first N rows")] = None,
    speed: Annotated[float, typer.Option(help="simulated seconds per wall second "
                                         "(0: as fast as possible)")] = 0.0,
    per_transition: Annotated[bool, typer.Option(
        help="one transaction per trigger through the service layer (slow reference path)")]
    = False,
    hourly: Annotated[bool, typer.Option(help="sweep every simulated hour instead of only "
                                         "when a timer can be due")] = False,
    tz: Annotated[str, typer.Option(help="time zone of timestamps without one")] = "UTC",
    pending_payments: Annotated[bool, typer.Option(
        help="a payment slower than the stock hold waits in payment_pending (the gateway "
             "reports it started); --no-pending-payments: it finds the order expired")] = True,
    address_column: Annotated[str | None, typer.Option(
        help="the CSV column holding each order's shipping address on one line, parsed as "
             "placements parse it (Chinese addresses); without it orders ship to a stand-in")]
    = None,
) -> None:
    """Replay real order timelines through the lifecycle; the product's timers flag lateness."""
    if not path.exists():
        raise typer.BadParameter(f"no such file: {path}", param_hint="PATH")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise typer.BadParameter(f"unknown time zone {tz!r}", param_hint="--tz") from None
    url = db or f"sqlite:///{tempfile.mkdtemp(prefix='orderpilot-replay-')}/replay.db"
    options = ReplayOptions(url, bulk=not per_transition, limit=limit, speed=speed,
                            batching=not hourly, assume_tz=zone,
                            pending_payments=pending_payments,
                            columns=ColumnMap(address=address_column))
    with errors():
        report = _run(path, options)
    print_report(report, url)
    if out is not None:
        out.write_text(json.dumps(report.model_dump(mode="json"), indent=2))
        console.print(f"report written to {out}")


def _run(path: Path, options: ReplayOptions) -> Report:
    columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress("[progress.description]{task.description}", *columns,
                  console=console, transient=True) as bar:
        task = bar.add_task("replaying events", total=None)
        return replay(path, options, lambda done, total: bar.update(task, completed=done,
                                                                    total=total))


def print_report(r: Report, url: str) -> None:
    """The report as rich tables."""
    console.print(f"[bold]{r.rows_replayed}[/] of {r.rows_read} rows replayed in "
                  f"{r.wall_seconds} s ({r.orders_per_second} orders/s, "
                  f"{r.transitions_per_second} transitions/s, {r.path_used} path) into "
                  f"{mask_url(url, keep_path=True)}")
    console.print(_table("Orders by final state", r.orders_by_state))
    console.print(_table("Parcels by final state", r.parcels_by_state))
    console.print(_table("Decided by the product's timers", {
        "transitions applied": r.transitions_applied,
        "impossible transitions": r.impossible_transitions, "other errors": r.other_errors,
        "payments after the pending deadline (order expired)": r.payments_after_deadline,
        "late deliveries flagged": r.late_deliveries_flagged,
        "late, not flagged (already stalled)": r.late_unflagged_already_stalled,
        "promise missed, never delivered": r.promised_missed_not_delivered,
        "stall alerts": r.stalls_flagged, "parcels stalled": r.parcels_stalled,
        "source: delivered after estimate": r.source_says["delivered_after_estimate"]}))
    console.print(_table("Median hours", {k: v if v is not None else "-"
                                          for k, v in r.median_hours.items()}))
    console.print(_table("Skipped rows", r.skipped or {"none": 0}))
    carriers = Table(title="Simulated carriers")
    columns = ["parcels", "delivered", "late_pct", "stalled_pct", "scans",
               "median_transit_hours"]
    carriers.add_column("carrier")
    for name in columns:
        carriers.add_column(name.replace("_", " "), justify="right")
    for name, kpi in r.carriers.items():
        carriers.add_row(name, *(str(kpi[c]) for c in columns))
    console.print(carriers)


def register(app: typer.Typer) -> None:
    app.command("replay")(replay_command)


def _table(title: str, rows: dict[str, object]) -> Table:
    table = Table(title=title)
    table.add_column("")
    table.add_column("count", justify="right")
    for key, value in rows.items():
        table.add_row(str(key), str(value))
    return table
