"""`orderpilot relay`, `serve` and `up`: the Prefect side of the command line."""

from __future__ import annotations

import signal
from typing import Annotated

import typer
from rich.console import Console

from integrations.events.stopping import stopped_by
from integrations.notifications.masking import mask_url
from orderpilot.cli_common import errors

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

    with errors():  # a setting or a store refused, PREFECT_API_URL not set: one line
        ctx, sink = context(db), event_sink(api_url)
    if once:
        with errors(PublishFailed):
            console.print(f"published {drain(ctx, sink, batch)} event(s)")
        return
    console.print(f"relaying to {mask_url(sink.url, keep_path=True)} every {interval}s "
                  "(Ctrl-C to stop)")
    try:
        with stopped_by(signal.SIGTERM) as stop:
            total = relay_forever(ctx, sink, batch=batch, interval=interval,
                                  should_stop=stop.is_set, on_error=lambda e: console.print(
                                      f"[yellow]retrying:[/] {e}"))
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
                   "relay` runs elsewhere)")] = True,
          metrics_port: Annotated[int | None, typer.Option(
              help="serve Prometheus metrics on 127.0.0.1:PORT/metrics")] = None) -> None:
    """Run the orderpilot console against the Prefect server (PREFECT_API_URL): relay, case
    runs for people (reviews, refunds, stalls), automation jobs, sweep, re-drive, dashboard."""
    from deployments.serve import serve_console
    from flows.wiring import context

    with errors():  # settings and store checked before anything starts (the context is kept)
        shop = context(db).settings.shop
    console.print("orderpilot console running" + (f" for shop {shop}" if shop else "")
                  + " (Ctrl-C to stop)")
    serve_console(db, poll=poll, sweep_every=sweep_every, redrive_every=redrive_every,
                  relay=relay, metrics_port=metrics_port)


def up(db: DbOption = None,
       demo: Annotated[bool, typer.Option(
           "--demo", help="play a demo shop in real time on its own store")] = False,
       port: Annotated[int, typer.Option(help="port of the Prefect server to start")] = 4200,
       prefect_db: Annotated[str | None, typer.Option(
           help="the Prefect server's database URL, or 'sqlite' (default: the local "
                "PostgreSQL when it answers, else SQLite)")] = None,
       metrics_port: Annotated[int | None, typer.Option(
           help="serve Prometheus metrics on 127.0.0.1:PORT/metrics")] = 9464) -> None:
    """One command to see it live: a Prefect server (started or reused), the console, and
    with --demo a shop trading in real time. Ctrl-C stops what it started."""
    from orderpilot.up import run_up

    with errors(RuntimeError):  # a Prefect server that would not start
        run_up(db, demo, port, prefect_db, metrics_port, console.print)


def register(app: typer.Typer) -> None:
    """Add the Prefect commands to the main `orderpilot` app."""
    app.command()(relay)
    app.command()(serve)
    app.command()(up)


if __name__ == "__main__":
    standalone = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False)
    register(standalone)
    standalone()
