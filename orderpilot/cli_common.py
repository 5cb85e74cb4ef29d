"""What every `orderpilot` command module shares: the app and its groups, the console, the
`--db` option, the pilot of one command and the error handling.

The command modules (cli_*.py) import this, and cli.py imports them to register their
commands: the imports point one way (cli → cli_* → cli_common), no circle.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console

from orderpilot.api import OrderPilot
from statemachine.errors import OrderPilotError

_OPENED: list[OrderPilot] = []  # the running command's pilots, closed when it ends


def closes_its_stores(group: typer.Typer) -> typer.Typer:
    """`group` closes the stores its command opened with `pilot` when the command ends: the
    root app, and a group run as a program of its own (`python -m orderpilot.cli_webhooks`)."""
    group.callback()(_close_at_the_end)
    return group


def _close_at_the_end(ctx: typer.Context) -> None:
    # Typer's public Context: close the stores the command opened when its context closes;
    # left open, their PostgreSQL connections were dropped by the garbage collector at exit
    # ("ResourceWarning: … was deleted while still open")
    ctx.call_on_close(_close_opened)


def _close_opened() -> None:
    while _OPENED:
        _OPENED.pop().close()


app = closes_its_stores(typer.Typer(
    help="orderpilot: e-commerce order lifecycles as persisted state machines.",
    no_args_is_help=True, pretty_exceptions_enable=False))
order_app = typer.Typer(help="Look at and move orders.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
stock_app = typer.Typer(help="Inventory and stock holds.", no_args_is_help=True)
app.add_typer(order_app, name="order")
app.add_typer(db_app, name="db")
app.add_typer(stock_app, name="stock")
console = Console()

DbOption = Annotated[str | None, typer.Option("--db", help="database URL (default: settings)")]


def pilot(db: str | None) -> OrderPilot:
    """A pilot for the running command, closed when the command ends: the one way a command
    opens the store."""
    p = OrderPilot(db)
    _OPENED.append(p)
    return p


def fail(error: Exception | str) -> typer.Exit:
    """Print the error as one red line on stderr; raise what this returns (exit code 2)."""
    # soft_wrap: one line however long (rich would break it at the terminal's width, and a
    # script or log reading stderr would get a path cut in two)
    Console(stderr=True, soft_wrap=True).print(f"[red]error:[/] {error}")
    return typer.Exit(2)


def kv(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep:
        raise typer.BadParameter(f"expected KEY=VALUE (got {text!r})", param_hint="--param")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


@contextmanager
def errors(*also: type[Exception]) -> Iterator[None]:
    """An orderpilot error in the block (opening the store included), a file the command
    cannot use, or one of `also` (the risk commands' rule-set and model errors) ends the
    command through `fail`: one red line on stderr, exit code 2 — never a traceback, and
    never on stdout, where `--json` output goes."""
    try:
        yield
    except (OrderPilotError, *also) as error:
        raise fail(error) from error
    except OSError as error:  # e.g. --out in a directory we may not write
        where = f" {error.filename}" if error.filename else ""
        raise fail(f"cannot use{where}: {error.strerror or error}") from error
