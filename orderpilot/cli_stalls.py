"""`orderpilot stall …`: silent parcels waiting for operations — the stall form's two choices
(chase the carrier again, declare the parcel lost) from a terminal, checked by the same form
model and applied by the same function as an answer given in the console."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from integrations.console.casework import STALL, open_cases
from integrations.console.decisions import act_on_stall
from orderpilot.cli_common import DbOption, console, errors, pilot
from statemachine.errors import InvalidInput

stall_app = typer.Typer(help="Stalled parcels waiting for operations: list, chase, lost.",
                        no_args_is_help=True)
By = Annotated[str, typer.Option("--by", help="who acts, as the history records it")]
Note = Annotated[str, typer.Option("--note", help="what you know; kept")]


@stall_app.command("list")
def stall_list(db: DbOption = None) -> None:
    """Parcels in a stall episode, longest silent first."""
    with errors():
        cases = open_cases(pilot(db).context, (STALL,))
    table = Table("parcel", "order", "buyer", "why", "silent since")
    for c in cases:
        table.add_row(c.entity, c.order_id, c.buyer_id, "; ".join(c.reasons),
                      c.opened_at.isoformat(timespec="minutes"))
    console.print(table if cases else "no parcel is stalled")


@stall_app.command("chase")
def stall_chase(shipment_id: str, by: By, note: Note, db: DbOption = None) -> None:
    """Ask the carrier once more (the parcel stays in the queue until its next scan)."""
    _act(db, shipment_id, "chase_again", by, note)


@stall_app.command("lost")
def stall_lost(shipment_id: str, by: By, note: Note, db: DbOption = None) -> None:
    """Declare the parcel lost: the buyer is compensated and a carrier claim filed."""
    _act(db, shipment_id, "declare_lost", by, note)


def _act(db: str | None, shipment_id: str, action: str, by: str, note: str) -> None:
    from flows.wiring import ports  # imports Prefect: only the commands that act pay for it

    with errors():
        p = pilot(db)
        answer = _checked(action, by, note)
        outcome = act_on_stall(p.context, ports(p.context), shipment_id, answer)
    console.print(f"{shipment_id}: {outcome}")


def _checked(action: str, by: str, note: str) -> dict[str, str]:
    """The answer as the form would take it; InvalidInput names the option that is wrong."""
    from flows.forms import StallAction  # a Prefect RunInput: imported when a stall is acted on

    try:
        return StallAction(action=action, note=note.strip(), operator=by.strip()).model_dump()
    except ValidationError as error:
        options = {"operator": "by", "note": "note", "action": "action"}
        raise InvalidInput({options.get(str(e["loc"][0]), str(e["loc"][0])): e["msg"]
                            for e in error.errors()}) from error


def register(app: typer.Typer) -> None:
    app.add_typer(stall_app, name="stall")
