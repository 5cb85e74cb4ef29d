"""`orderpilot orders …`: find orders — a filtered list (paginated), a search by any id at
hand, and CSV / JSON exports."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from integrations.console.casework import money
from integrations.service.listing import OrderPage
from orderpilot.cli_common import DbOption, console, errors, pilot

orders_app = typer.Typer(help="Find orders: list with filters, search, export.",
                         no_args_is_help=True)
State = Annotated[list[str] | None, typer.Option("--state", help="repeat for several")]
Buyer = Annotated[str | None, typer.Option("--buyer")]
Since = Annotated[datetime | None, typer.Option(
    "--since", help="placed at or after (ISO time; no offset = UTC)")]
Risk = Annotated[str | None, typer.Option("--risk", help="approve, review, verify or reject")]


@orders_app.command("list")
def orders_list(db: DbOption = None, state: State = None, buyer: Buyer = None,
                since: Since = None, risk: Risk = None,
                limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
                after: Annotated[str | None, typer.Option(
                    help="the `next` id printed under the previous page")] = None,
                as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Orders newest first, one page at a time."""
    _show(lambda p: p.orders.list(**_filters(state, buyer, since, risk), limit=limit,
                                  after=after), db, as_json)


@orders_app.command("search")
def orders_search(text: str, db: DbOption = None,
                  as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Orders matching an order id, buyer id, payment reference or tracking number."""
    _show(lambda p: p.orders.search(text), db, as_json)


@orders_app.command("export")
def orders_export(out: Annotated[Path, typer.Option("--out", help="file to write")],
                  fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
                  db: DbOption = None, state: State = None, buyer: Buyer = None,
                  since: Since = None, risk: Risk = None) -> None:
    """Every matching order to a CSV (header row) or JSON file."""
    with errors():
        text = pilot(db).orders.export(fmt, **_filters(state, buyer, since, risk))
    out.write_text(text, encoding="utf-8")
    rows = len(json.loads(text)) if fmt == "json" else max(0, text.count("\n") - 1)
    console.print(f"{rows} order(s) written to {out}")


def _filters(state: list[str] | None, buyer: str | None, since: datetime | None,
             risk: str | None) -> dict[str, Any]:
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return {k: v for k, v in {"state": state, "buyer": buyer, "since": since,
                              "risk": risk}.items() if v}


def _show(fetch: Any, db: str | None, as_json: bool) -> None:
    with errors():
        page: OrderPage = fetch(pilot(db))
    if as_json:
        print(page.model_dump_json(indent=2))
        return
    table = Table("order", "buyer", "state", "total", "paid", "refunded", "risk", "placed")
    for o in page.orders:
        table.add_row(o.id, o.buyer_id, o.state, money(o.total, o.currency),
                      money(o.paid, o.currency), money(o.refunded, o.currency), o.risk or "",
                      o.created_at.isoformat(timespec="minutes"))
    console.print(table if page.orders else "no order matches")
    if page.next:
        console.print(f"more: --after {page.next}")


def register(app: typer.Typer) -> None:
    app.add_typer(orders_app, name="orders")
