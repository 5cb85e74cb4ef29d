"""`orderpilot case …`: after-sales requests a person must decide — the same decisions as the
refund-review form in the console, from a terminal."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from integrations.console.casefiles import duration
from integrations.console.casework import REFUND_REVIEW, money, open_cases
from integrations.service.views import CaseRefund, GoodwillRefund
from orderpilot.cli_common import DbOption, console, errors, fail, pilot

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
    Shopify's admin, as it says; a return's refund follows the inspection of its goods.

    Exit 0: approved, and its refund paid or pending (the money sweep retries it; or, paid
    through Shopify, to be made in its admin); 1: approved, but its refund was refused (one
    red line says why; nothing counted: `case refund` asks again, or `case close`); 2: not
    approved, nothing written."""
    with errors():
        p = pilot(db)
        case = p.cases.approve(case_id, by=by, reason=reason)
    refund = case.refund
    if refund is None or refund.status == "refused":
        console.print(f"{case.id} approved by {by}: now [bold]{case.state}[/]")
    else:
        console.print(f"{case.id} approved by {by}, {refund_said(refund)}: now "
                      f"[bold]{case.state}[/]")
    if refund is not None and refund.status == "refused":
        asked = f"the provider refused refund {refund.refund}" if refund.refund else \
            "no refund was asked"
        fail(f"{asked} of {money(refund.amount, refund.currency)}: {refund.error}; the "
             f"approval stands, nothing counted (`case refund` asks again, or `case close`)")
        raise typer.Exit(1)


@case_app.command("reject")
def case_reject(case_id: str, by: By, reason: Reason, db: DbOption = None) -> None:
    """Refuse the request."""
    with errors():
        case = pilot(db).cases.reject(case_id, by=by, reason=reason)
    console.print(f"{case.id} rejected by {by}: now [bold]{case.state}[/]")


def refund_said(done: CaseRefund | GoodwillRefund) -> str:
    """How a refund (a case's, a goodwill one) went that the provider did not refuse, in
    words."""
    amount = money(done.amount, done.currency)
    if done.status == "succeeded":
        return f"refunded {amount}"
    if done.note:  # an order paid through Shopify: the merchant refunds it in its admin
        return f"refund of {amount} pending, {done.note}"
    why = f"{done.error}: the money sweep retries it" if done.error else "not confirmed yet"
    return f"refund of {amount} pending at the provider ({why}; counted when it settles)"


def register(app: typer.Typer) -> None:
    app.add_typer(case_app, name="case")
