"""`orderpilot case …`: after-sales requests a person must decide — the same decisions as the
refund-review form in the console, from a terminal."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from integrations.console.casefiles import duration
from integrations.console.casework import REFUND_REVIEW, money, open_cases
from orderpilot.cli_common import DbOption, console, errors, pilot

case_app = typer.Typer(help="After-sales cases: decide requests, take a return's steps.",
                       no_args_is_help=True)
By = Annotated[str, typer.Option("--by", help="who decides, as the history records it")]
Reason = Annotated[str, typer.Option("--reason", help="why; kept in the history")]


@case_app.command("list")
def case_list(db: DbOption = None) -> None:
    """Requests waiting for a decision, oldest first, with their SLA.

    `overdue by …` once the SLA passed (they stay listed until decided), as `case bounced`."""
    table = Table("case", "order", "kind", "amount", "reason", "requested", "SLA")
    with errors():
        p = pilot(db)
        # the work list's deadline, computed from the request's time (casework.py)
        waiting, now = open_cases(p.context, (REFUND_REVIEW,)), p.clock.now()
        cases = [(p.cases.get(w.entity), w.sla_left(now)) for w in waiting]
        currencies = {c.order_id: p.orders.get(c.order_id).currency for c, _ in cases}
    for c, left in cases:
        currency = currencies[c.order_id]
        table.add_row(c.id, c.order_id, c.kind, money(c.requested_amount, currency),
                      c.reason, c.created_at.isoformat(timespec="minutes"), duration(left))
    console.print(table if cases else "no request waits for a person")


@case_app.command("approve")
def case_approve(case_id: str, by: By, reason: Reason, db: DbOption = None) -> None:
    """Grant the request: a refund-only one is paid back through the payment provider at
    once (as `case refund`) — an order paid through Shopify is refunded by the merchant in
    Shopify's admin, as it says; a return's refund follows the inspection of its goods."""
    _decide(db, case_id, "approve", by, reason)


@case_app.command("reject")
def case_reject(case_id: str, by: By, reason: Reason, db: DbOption = None) -> None:
    """Refuse the request."""
    _decide(db, case_id, "reject", by, reason)


def _decide(db: str | None, case_id: str, decision: str, by: str, reason: str) -> None:
    with errors():
        p = pilot(db)
        case = getattr(p.cases, decision)(case_id, by=by, reason=reason)
        currency = p.orders.get(case.order_id).currency
    done = {"approve": "approved", "reject": "rejected"}[decision]
    paid = f", refunded {money(case.refunded, currency)}" if case.refunded else ""
    console.print(f"{case.id} {done} by {by}{paid}: now [bold]{case.state}[/]")
    if note := getattr(case, "refund_note", None):  # an order paid through Shopify
        console.print(f"its refund is not made by orderpilot: {note}")


def register(app: typer.Typer) -> None:
    app.add_typer(case_app, name="case")
