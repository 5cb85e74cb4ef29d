"""`orderpilot case …`: the steps of an after-sales case a person takes after the decision —
a new return label (a return the carrier sent back to the buyer included), goods received,
inspected, refund, exchange, repair, close — and the bounced returns waiting for an answer.

Each command is the Python API's `cases.fire` with the same checks (the case id, the step
allowed in the case's state, its guard, its parameters): a refusal is one red line naming what
was expected, exit code 2, nothing written. The system's own steps (auto_approve, review,
bounce_return) have no command. The decision itself (approve / reject) is in cli_cases.py,
whose `case` group this module adds its commands to (cli.py imports it, nothing imports cli.py).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from integrations.console.casefiles import duration
from integrations.console.casework import RETURN_BOUNCED, money, open_cases
from integrations.service.inputs import check_text
from integrations.service.views import CaseView, ShipmentView
from orderpilot.api import OrderPilot
from orderpilot.cli_cases import By, case_app, refund_said
from orderpilot.cli_common import DbOption, console, errors, fail, pilot
from statemachine import limits

Note = Annotated[str, typer.Option("--note", help="why; kept in the history")]
MaybeNote = Annotated[str | None, typer.Option("--note", help="why; kept in the history")]


@case_app.command("bounced")
def case_bounced(db: DbOption = None) -> None:
    """Returns sent back to the buyer, waiting for new-label or close, with their SLA.

    Oldest first; `overdue by …` once the SLA passed (they stay listed until answered)."""
    with errors():
        p = pilot(db)
        cases, now = open_cases(p.context, (RETURN_BOUNCED,)), p.clock.now()
    table = Table("case", "order", "amount", "bounced", "SLA")
    for c in cases:
        table.add_row(c.entity, c.order_id, money(c.amount, c.currency),
                      c.opened_at.isoformat(timespec="minutes"), duration(c.sla_left(now)))
    console.print(table if cases else "no bounced return waits for an answer")


@case_app.command("show")
def case_show(case_id: str, db: DbOption = None) -> None:
    """A case's kind, state, money and the steps a person can take now."""
    with errors():
        p = pilot(db)
        case, steps = p.cases.get(case_id), p.cases.allowed_triggers(case_id)
        currency = p.orders.get(case.order_id).currency
    console.print(f"[bold]{case.id}[/] on {case.order_id}: {case.kind} “{case.reason}”, "
                  f"state [bold]{case.state}[/], requested "
                  f"{money(case.requested_amount, currency)}, refunded "
                  f"{money(case.refunded, currency)}"
                  + (f", inspection {case.inspection}" if case.inspection else ""))
    for parcel in _parcels(p, case):  # the waybills the case sent or waits for
        console.print(f"parcel {parcel.id}: {parcel.purpose} {parcel.carrier} "
                      f"{parcel.tracking_no} ({parcel.warehouse}), {parcel.state}",
                      soft_wrap=True)
    console.print("steps now: " + (", ".join(COMMANDS.get(s, s) for s in steps
                                             if s not in SYSTEM) or "none (final state)"))


@case_app.command("new-label")
def case_new_label(case_id: str, by: By, note: Note, db: DbOption = None) -> None:
    """Send the buyer a return label (after approval, or to answer a bounced return).

    The waybill is bought from the carrier the order's goods went with, through its adapter
    (as the console's bounced-return form does), then the step `await_return`: the case waits
    for the goods again. A carrier that does not answer or refuses: nothing changes."""
    with errors():
        who = _who(by)
        p = pilot(db)
        case = p.cases.new_label(case_id, actor=who, reason=note)
        waiting = [s for s in _parcels(p, case) if s.purpose == "return"
                   and s.state == "label_created"]
    waybills = ", ".join(f"{s.carrier} {s.tracking_no}" for s in waiting)
    console.print(f"{case.id} new-label by {who}: now [bold]{case.state}[/]; "
                  f"return waybill {waybills}", soft_wrap=True)  # a number on one line


@case_app.command("receive")
def case_receive(case_id: str, by: By, note: MaybeNote = None, db: DbOption = None) -> None:
    """The returned goods arrived at the warehouse."""
    _step(db, case_id, "receive", by, reason=note)


@case_app.command("inspect")
def case_inspect(case_id: str, by: By, result: Annotated[str, typer.Option(
        "--result", help="ok | damaged | mismatch")], note: MaybeNote = None,
        db: DbOption = None) -> None:
    """Record the inspection of the received goods.

    ok: back on the shelf; damaged: written off; mismatch: close the case instead of a
    refund."""
    _step(db, case_id, "inspect", by, result=result, notes=note)


@case_app.command("refund")
def case_refund(case_id: str, by: By, amount: Annotated[int | None, typer.Option(
        help="minor units (12900 = ¥129.00); default: what the case is owed")] = None,
        db: DbOption = None) -> None:
    """Pay the buyer back through the payment provider (a return once inspected, a
    refund-only request once approved); the case and its order count it once it is paid.

    Not the bare `refund` step: that only records a refund made elsewhere (no money moves)."""
    with errors():
        who = _who(by)
        done = pilot(db).cases.refund(case_id, by=who, amount=amount)
    if done.status == "refused":  # nothing counted: the case waits as it was
        raise fail(f"the provider refused refund {done.refund} of "
                   f"{money(done.amount, done.currency)}: {done.error}")
    console.print(f"{done.case.id} refund by {who}: {refund_said(done)}; now "
                  f"[bold]{done.case.state}[/]")


@case_app.command("exchange")
def case_exchange(case_id: str, by: By, note: MaybeNote = None, db: DbOption = None) -> None:
    """Ship the replacement of an inspected exchange."""
    _step(db, case_id, "exchange", by, reason=note)


@case_app.command("repair")
def case_repair(case_id: str, by: By, note: MaybeNote = None, db: DbOption = None) -> None:
    """Ship the repaired item of an inspected repair back to the buyer."""
    _step(db, case_id, "repair", by, reason=note)


@case_app.command("close")
def case_close(case_id: str, by: By, note: Note, db: DbOption = None) -> None:
    """End an open case without a refund (a bounced return: the buyer keeps the goods)."""
    _step(db, case_id, "close", by, reason=note)


# the command of each step a person takes; the others are the system's own
COMMANDS = {"await_return": "new-label", "approve": "approve", "reject": "reject",
            "receive": "receive", "inspect": "inspect", "refund": "refund",
            "exchange": "exchange", "repair": "repair", "close": "close"}
SYSTEM = ("auto_approve", "review", "bounce_return")


def _step(db: str | None, case_id: str, trigger: str, by: str, **params: Any) -> None:
    with errors():
        who = _who(by)
        given = {k: v for k, v in params.items() if v is not None}
        case = pilot(db).cases.fire(case_id, trigger, actor=who, **given)
    console.print(f"{case.id} {COMMANDS[trigger]} by {who}: now [bold]{case.state}[/]")


def _parcels(p: OrderPilot, case: CaseView) -> list[ShipmentView]:
    return [s for s in p.shipments.of_order(case.order_id) if s.case_id == case.id]


def _who(by: str) -> str:
    # the name is checked as itself, so a blank `--by` is refused naming `by`
    return "ops:" + check_text("by", by, limits.ACTOR - 4, what="a name").strip()
