"""What every `orderpilot` command module shares: the app and its groups, the console, the
`--db` option, the pilot of one command and the error handling.

The command modules (cli_*.py) import this, and cli.py imports them to register their
commands: the imports point one way (cli → cli_* → cli_common), no circle.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from orderpilot.api import OrderPilot
from statemachine.errors import OrderPilotError

app = typer.Typer(help="orderpilot: e-commerce order lifecycles as persisted state machines.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
order_app = typer.Typer(help="Look at and move orders.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
stock_app = typer.Typer(help="Inventory and stock holds.", no_args_is_help=True)
app.add_typer(order_app, name="order")
app.add_typer(db_app, name="db")
app.add_typer(stock_app, name="stock")
console = Console()

DbOption = Annotated[str | None, typer.Option("--db", help="database URL (default: settings)")]


_OPENED: list[OrderPilot] = []  # the running command's pilots, closed when it ends


@app.callback()
def _around_every_command(ctx: typer.Context) -> None:
    # Typer's public Context: close the stores the command opened when its context closes;
    # left open, their PostgreSQL connections were dropped by the garbage collector at exit
    # ("ResourceWarning: … was deleted while still open")
    ctx.call_on_close(_close_opened)


def _close_opened() -> None:
    while _OPENED:
        _OPENED.pop().close()


def pilot(db: str | None) -> OrderPilot:
    """A pilot for the running command, closed when the command ends."""
    p = OrderPilot(db)
    _OPENED.append(p)
    return p


@contextmanager
def pilot_closed(db: str | None) -> Iterator[OrderPilot]:
    """A pilot for one command, closed (connections returned) when it ends."""
    with errors():
        p = OrderPilot(db)
        try:
            yield p
        finally:
            p.close()


T = TypeVar("T")


def fail(error: OrderPilotError) -> typer.Exit:
    """Print the error as one red line on stderr; raise what this returns (exit code 2)."""
    Console(stderr=True).print(f"[red]error:[/] {error}")
    return typer.Exit(2)


def run(call: Callable[[OrderPilot], T], db: str | None) -> T:
    """`call` with a pilot opened for this one command and closed after it; an orderpilot
    error (opening the store included) ends the command through `fail`."""
    pilot = None
    try:
        pilot = OrderPilot(db)
        return call(pilot)
    except OrderPilotError as error:
        raise fail(error) from error
    finally:
        if pilot is not None:
            pilot.close()


def kv(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep:
        raise typer.BadParameter(f"expected KEY=VALUE (got {text!r})", param_hint="--param")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


class errors:  # noqa: N801  (used as `with errors():`)
    """Turn orderpilot errors into one red line and exit code 2, not a traceback."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, tb) -> bool:
        if isinstance(error, OrderPilotError):
            console.print(f"[red]error:[/] {error}")
            raise typer.Exit(2)
        if isinstance(error, OSError):  # e.g. --out in a directory we may not write
            where = f" {error.filename}" if error.filename else ""
            console.print(f"[red]error:[/] cannot use{where}: {error.strerror or error}")
            raise typer.Exit(2)
        return False
