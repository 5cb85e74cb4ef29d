"""`orderpilot webhooks …`: outbound webhook subscriptions, delivery logs, dead letters, relay."""

from __future__ import annotations

import signal
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from integrations.events.stopping import stopped_by
from integrations.notifications.masking import mask_url
from orderpilot.cli_common import DbOption, closes_its_stores, errors, pilot

webhooks_app = typer.Typer(help="Outbound webhooks (Standard Webhooks signatures).",
                           no_args_is_help=True)
console = Console()


@webhooks_app.command("add")
def add(url: str, db: DbOption = None,
        event: Annotated[list[str] | None, typer.Option(
            "--event", "-e", help="filter, repeatable: orderpilot.order.*, orderpilot.* …")] = None,
        description: Annotated[str | None, typer.Option(help="who listens (ERP, WMS …)")] = None,
        secret: Annotated[str | None, typer.Option(help="whsec_…; generated if absent")] = None,
        by: Annotated[str, typer.Option(help="who adds it")] = "cli") -> None:
    """Subscribe URL to events; prints the signing secret once."""
    with errors():
        sub = pilot(db).webhooks.subscribe(url, events=event or ["orderpilot.*"],
                                           description=description, secret=secret, actor=by)
    console.print(f"[bold]{sub.id}[/] → {sub.url} for {', '.join(sub.events)}")
    console.print(f"signing secret (shown once): {sub.secret}")


@webhooks_app.command("list")
def list_(db: DbOption = None) -> None:
    """Subscriptions with their delivery counts (a password or query in a URL shown masked:
    listings end up in terminals' scrollback and tickets)."""
    table = Table("id", "url", "events", "active", "delivered", "pending", "dead", "description")
    with errors():
        for s in pilot(db).webhooks.list():
            table.add_row(s.id, mask_url(s.url, keep_path=True), " ".join(s.events),
                          "yes" if s.active else "paused",
                          str(s.deliveries["delivered"]), str(s.deliveries["pending"]),
                          str(s.deliveries["dead"]), s.description or "")
    console.print(table)


@webhooks_app.command("pause")
def pause(subscription_id: str, db: DbOption = None) -> None:
    """Stop handing new events to a subscription (until resumed)."""
    with errors():
        pilot(db).webhooks.pause(subscription_id)
    console.print(f"{subscription_id} paused")


@webhooks_app.command("resume")
def resume(subscription_id: str, db: DbOption = None) -> None:
    with errors():
        pilot(db).webhooks.resume(subscription_id)
    console.print(f"{subscription_id} active")


@webhooks_app.command("remove")
def remove(subscription_id: str, db: DbOption = None) -> None:
    """Delete a subscription and its delivery log."""
    with errors():
        pilot(db).webhooks.remove(subscription_id)
    console.print(f"{subscription_id} removed")


@webhooks_app.command("log")
def log(subscription_id: Annotated[str | None, typer.Argument()] = None, db: DbOption = None,
        status: Annotated[str | None, typer.Option(help="pending, delivered or dead")] = None,
        order: Annotated[str | None, typer.Option(help="only this order, e.g. o-42")] = None,
        limit: int = 50) -> None:
    """The delivery log (newest LIMIT entries): attempts, last answer, when next."""
    table = Table("delivery", "sub", "event", "order", "status", "tries", "last answer",
                  "next / delivered")
    with errors():
        for d in pilot(db).webhooks.deliveries(subscription_id, status=status,
                                               order_id=order, limit=limit):
            when = d.delivered_at or d.next_attempt_at
            table.add_row(d.id, d.subscription_id, d.event, d.order_id, d.status,
                          str(d.attempts), d.last_error or str(d.last_status_code or ""),
                          when.isoformat(timespec="seconds") if when else "")
    console.print(table)


@webhooks_app.command("dead")
def dead(subscription_id: Annotated[str | None, typer.Argument()] = None,
         db: DbOption = None) -> None:
    """The dead-letter list (deliveries that failed every attempt)."""
    log(subscription_id, db=db, status="dead", order=None, limit=1000)


@webhooks_app.command("resend")
def resend(delivery_ids: Annotated[list[str] | None, typer.Argument(
               help="dl-… ids; none: every dead letter (of --subscription)")] = None,
           subscription: Annotated[str | None, typer.Option(help="sub-…")] = None,
           db: DbOption = None) -> None:
    """Queue dead-lettered deliveries again; the relay sends them in order."""
    with errors():
        count = pilot(db).webhooks.resend(delivery_ids or [], subscription_id=subscription)
    console.print(f"{count} delivery(ies) queued again")


@webhooks_app.command("relay")
def relay(db: DbOption = None,
          once: Annotated[bool, typer.Option(help="drain what is due, then exit")] = False,
          interval: Annotated[float, typer.Option(help="seconds between idle rounds")] = 0.5,
          ) -> None:
    """Send due webhooks until interrupted (or --once): fan out, sign, POST, retry."""
    with errors(), stopped_by(signal.SIGTERM) as stop:
        sender = pilot(db).webhooks.relay()
        try:
            if once:
                rounds = sender.drain()
                total = {k: sum(getattr(r, k) for r in rounds)
                         for k in ("delivered", "failed", "dead")}
                console.print(", ".join(f"{k} {n}" for k, n in total.items()))
            else:
                sender.forever(interval, should_stop=stop.is_set)
        except KeyboardInterrupt:
            pass
        finally:
            sender.close()


def register(app: typer.Typer) -> None:
    app.add_typer(webhooks_app, name="webhooks")


if __name__ == "__main__":
    closes_its_stores(webhooks_app)()
