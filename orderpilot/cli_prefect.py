"""`orderpilot relay`, `serve` and `up`: the Prefect side of the command line."""

from __future__ import annotations

import signal
from typing import Annotated

import typer
from rich.console import Console

console = Console(stderr=True)

DbOption = Annotated[str | None, typer.Option("--db", help="database URL (default: settings)")]


def relay(db: DbOption = None,
          api_url: Annotated[str | None, typer.Option(
              help="Prefect API URL (default: PREFECT_API_URL of the active profile)")] = None,
          batch: Annotated[int, typer.Option(min=1, max=10_000, help="rows per POST")] = 500,
          interval: Annotated[float, typer.Option(min=0.05, help="seconds between polls")] = 1.0,
          once: Annotated[bool, typer.Option(
              "--once", help="publish what is waiting, then exit")] = False) -> None:
    """Publish outbox rows as Prefect events (at least once, in order), continuously."""
    from flows.wiring import context, event_sink
    from integrations.events.relay import PublishFailed, drain, relay_forever

    ctx, sink = context(db), event_sink(api_url)
    if once:
        try:
            console.print(f"published {drain(ctx, sink, batch)} event(s)")
        except PublishFailed as error:
            console.print(f"[red]error:[/] {error}")
            raise typer.Exit(2) from error
        return
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    console.print(f"relaying to {sink.url} every {interval}s (Ctrl-C to stop)")
    try:
        total = relay_forever(ctx, sink, batch=batch, interval=interval,
                              should_stop=lambda: stop["now"],
                              on_error=lambda e: console.print(f"[yellow]retrying:[/] {e}"))
    except KeyboardInterrupt:
        total = -1
    console.print(f"relay stopped{'' if total < 0 else f' after {total} event(s)'}")


def serve(db: DbOption = None,
          poll: Annotated[float, typer.Option(
              min=0.05, help="seconds between looks at the outbox and at answered forms")] = 0.5,
          sweep_every: Annotated[float, typer.Option(
              min=1, help="seconds between deadline sweeps")] = 15.0,
          redrive_every: Annotated[float, typer.Option(
              min=5, help="seconds between re-drives (lost case runs re-created)")] = 60.0,
          relay: Annotated[bool, typer.Option(
              help="publish outbox rows as Prefect events (--no-relay if `orderpilot "
                   "relay` runs elsewhere)")] = True) -> None:
    """Run the orderpilot console against the Prefect server (PREFECT_API_URL): relay, case
    runs for people (reviews, refunds, stalls), automation jobs, sweep, re-drive, dashboard."""
    from deployments.serve import serve_console

    console.print("orderpilot console running (Ctrl-C to stop)")
    serve_console(db, poll=poll, sweep_every=sweep_every, redrive_every=redrive_every,
                  relay=relay)


def register(app: typer.Typer) -> None:
    """Add the Prefect commands to the main `orderpilot` app."""
    app.command()(relay)
    app.command()(serve)


if __name__ == "__main__":
    standalone = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False)
    register(standalone)
    standalone()
