"""`orderpilot import orders FILE`: orders from platform exports, with a progress bar and a
per-row error report."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from orderpilot.cli_common import DbOption, pilot
from orderpilot.cli_common import errors as one_line_errors  # `errors` is an option here

import_app = typer.Typer(help="Import from files (platform exports).", no_args_is_help=True)
console = Console()


@import_app.command("orders")
def orders(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
           db: DbOption = None,
           fmt: Annotated[str | None, typer.Option(
               "--format", help="jsonl, csv or woocommerce (default: from the suffix)")] = None,
           columns: Annotated[Path | None, typer.Option(
               help="JSON map of the file's column names to ours, e.g. "
                    '{"订单号": "external_id", "商品编码": "sku"}')] = None,
           source: Annotated[str, typer.Option(
               help="names the import in idempotency keys (pinduoduo, taobao, woo …)")] =
           "import",
           errors: Annotated[Path | None, typer.Option(
               help="where to write the error report (default: FILE.errors.csv)")] = None,
           by: Annotated[str, typer.Option(help="who imports")] = "import") -> None:
    """Place (and pay, when the export says so) every order in FILE; a second run of the same
    file places nothing twice. Exit 1 when any order could not be imported."""
    from integrations.ingest.imports import import_record
    from integrations.ingest.order_files import read_orders

    column_map = json.loads(columns.read_text(encoding="utf-8")) if columns else None
    records = read_orders(file, fmt, column_map)
    results = []
    with one_line_errors():
        context = pilot(db).context
        with Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task("orders", total=len(records))
            for record in records:
                results.append(import_record(context, record, source, f"{by}:{source}"))
                progress.advance(task)
    _summary(results)
    failed = [r for r in results if r.status == "error"]
    if failed:
        report = errors or file.with_name(file.name + ".errors.csv")
        _write_errors(report, failed)
        console.print(f"[red]{len(failed)} order(s) not imported[/]; report: {report}")
        raise typer.Exit(1)


def _summary(results: list) -> None:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    table = Table("outcome", "orders")
    for status, n in sorted(counts.items()):
        table.add_row(status, str(n))
    console.print(table)


def _write_errors(path: Path, failed: list) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["rows", "external_id", "field", "problem"])
        for r in failed:
            for field, problem in r.problems.items():
                writer.writerow([_rows_of(r.rows, field), r.external_id, field, problem])


def _rows_of(rows: list[int], field: str) -> str:
    """The CSV row of a line's problem (one row per line), else every row of the order."""
    match = re.match(r"lines\[(\d+)\]", field)
    if match and len(rows) > 1 and int(match.group(1)) < len(rows):
        return str(rows[int(match.group(1))])
    return " ".join(map(str, rows))


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
