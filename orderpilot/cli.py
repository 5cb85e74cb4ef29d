"""The `orderpilot` command line. Each command is a thin call into the Python API.

The app, the shared options and the error handling live in cli_common.py; the command modules
(cli_*.py) import that, never this module.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from integrations.console.casework import money
from orderpilot.cli_cases import refund_said
from orderpilot.cli_common import (
    DbOption,
    app,
    console,
    db_app,
    errors,
    fail,
    kv,
    order_app,
    pilot,
    stock_app,
)
from orderpilot.cli_history import history_view


@order_app.command("show")
def order_show(order_id: str, db: DbOption = None,
               as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """State, money, risk decision and full history of one order."""
    with errors():
        p = pilot(db)
        order, history = p.orders.get(order_id), p.orders.history(order_id)
    if as_json:
        print(json.dumps({"order": order.model_dump(mode="json"),
                          "history": [h.model_dump(mode="json") for h in history]}, indent=2))
        return
    console.print(f"[bold]{order.id}[/] buyer {order.buyer_id}  state [bold]{order.state}[/]  "
                  f"total {order.total} {order.currency}  paid {order.paid}  "
                  f"refunded {order.refunded} ({order.payment_status})")
    if order.risk:
        reasons = "; ".join(r["text"] for r in order.risk.get("reasons", []))
        console.print(f"risk: {order.risk['action']} (score {order.risk['score']}) {reasons}")
    console.print(history_view(history, console.width))


@order_app.command("fire")
def order_fire(order_id: str, trigger: str, db: DbOption = None,
               by: Annotated[str, typer.Option(help="who is acting")] = "cli",
               param: Annotated[list[str] | None, typer.Option(
                   "--param", "-p", help="KEY=VALUE (JSON values allowed)")] = None) -> None:
    """Fire a trigger on an order, e.g. `orderpilot order fire o-1 cancel -p reason=dup`."""
    params = dict(kv(p) for p in param or [])
    with errors():
        order = pilot(db).orders.fire(order_id, trigger, actor=by, **params)
    console.print(f"{order.id} is now [bold]{order.state}[/]")


Part = Annotated[str | None, typer.Option()]


def _region_shipped_to(history: list[Any], shipping_address: dict[str, Any]) -> str:
    """Province, city and district the order ships to: as its last correction's history row
    shows them — read by the parser from an address given as one line, which has no region
    fields — else as its address's fields say."""
    shown = next((step.payload.get("to") or {} for step in reversed(history)
                  if step.trigger == "correct_address"), shipping_address)
    region = " ".join(dict.fromkeys(str(shown[k]) for k in ("province", "city", "district")
                                    if shown.get(k)))
    return region or "the address it was placed with"


@order_app.command("refund-goodwill")
def order_refund_goodwill(
        order_id: str,
        amount: Annotated[int, typer.Option(
            help="minor units of the order's currency (500 = ¥5.00 of a CNY order)")],
        reason: Annotated[str, typer.Option(help="why, kept with the refund")],
        by: Annotated[str, typer.Option(help="who decided it (recorded)")],
        key: Annotated[str | None, typer.Option(
            help="a retry under the same key is the same refund (the provider pays once)")
        ] = None,
        db: DbOption = None) -> None:
    """Pay the buyer back through the payment provider, tied to no case (goodwill, a price
    adjustment), e.g. `orderpilot order refund-goodwill o-7 --amount 500 --reason
    物流延误补偿 --by cs:wangfang`. Exit 2 when refused (bad input, more than may be refunded,
    or the provider refused it for good)."""
    with errors():
        done = pilot(db).orders.refund_goodwill(order_id, amount=amount, reason=reason, by=by,
                                                key=key)
    if done.status == "refused":
        raise fail(f"the provider refused refund {done.refund} of "
                   f"{money(done.amount, done.currency)}: {done.error}")
    console.print(f"{done.order.id} goodwill refund {done.refund} by {by}: "
                  f"{refund_said(done)}; refunded so far "
                  f"{money(done.order.refunded, done.currency)}")


@order_app.command("address")
def order_address(order_id: str,
                  by: Annotated[str, typer.Option(help="who corrects it (recorded)")],
                  province: Part = None, city: Part = None, district: Part = None,
                  street: Part = None, postal_code: Part = None, recipient: Part = None,
                  phone: Part = None,
                  line: Annotated[str | None, typer.Option(
                      help="the whole address on one line, instead of the fields")] = None,
                  country: Annotated[str, typer.Option()] = "CN",
                  reason: Annotated[str | None, typer.Option()] = None,
                  db: DbOption = None) -> None:
    """Correct an order's address before it ships, e.g. `orderpilot order address o-7 --province
    浙江省 --city 杭州市 --district 西湖区 --street 文三路18号 --by mei` (recipient and phone kept
    unless given; a review waiting stays waiting)."""
    fields = {"province": province, "city": city, "district": district, "street": street,
              "postal_code": postal_code, "recipient": recipient, "phone": phone,
              "line": line, "country": country}
    with errors():
        orders = pilot(db).orders
        version = orders.get(order_id).version  # unchanged after: the address was the same
        order = orders.correct_address(
            order_id, address={k: v for k, v in fields.items() if v is not None}, by=by,
            reason=reason)
        region = _region_shipped_to(orders.history(order.id), order.shipping_address)
    if order.version == version:
        console.print(f"{order.id} ({order.state}) already ships to {region}: nothing changed")
        return
    console.print(f"{order.id} ({order.state}) now ships to {region}")
    if order.state == "under_review":
        console.print("[yellow]still waiting for its review[/]: approve or reject it as before")


@app.command()
def diagram(which: Annotated[str, typer.Argument(
        help="order, shipment, case, dispute or all")] = "all") -> None:
    """Print the lifecycle diagrams (Mermaid), generated from the transition tables."""
    from statemachine.diagrams import mermaid_markdown

    with errors():
        print(mermaid_markdown(which))


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Create or upgrade the schema to the newest migration."""
    from integrations.bootstrap import open_store
    from integrations.config import Settings, read_settings
    from integrations.db.migrate import current_revision
    from integrations.notifications.masking import mask_url

    with errors():  # a setting, a URL or a store refused: one line naming it
        settings = read_settings(Settings)
        url = db or settings.database_url
        engine = open_store(url, sqlite_synchronous=settings.sqlite_synchronous)  # upgraded
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    console.print(f"schema at revision [bold]{revision}[/] ({mask_url(url, keep_path=True)})")


@db_app.command("new-identity")
def db_new_identity(db: DbOption = None, yes: Annotated[bool, typer.Option(
        "--yes", help="do not ask (scripts restoring a copy)")] = False) -> None:
    """Give a store restored from a copy of another store's database an identity of its own.

    Run it on the copy, before its console, relay or workers start (restart them if they
    run): with the copied identity its console would take the other store's case runs for its
    own. Never on the store the copy came from: its open case runs would be left behind."""
    from integrations.events.identity import new_store_id

    if not yes:
        typer.confirm("Give this store a new identity (only a copy of another store's "
                      "database needs one)?", abort=True)
    with errors():
        old, new = new_store_id(pilot(db).context)
    console.print(f"store identity [bold]{new}[/] (was {old or 'none'}); restart its console, "
                  "relay and workers")


@app.command()
def sweep(db: DbOption = None) -> None:
    """Fire every deadline that is due now (hold expiry, parcel alerts, SLAs, auto-complete)."""
    with errors():
        counts = pilot(db).sweep()
    console.print(counts or "nothing due")


@stock_app.command("receive")
def stock_receive(sku: str, warehouse: str, quantity: int, db: DbOption = None) -> None:
    """Add stock on hand."""
    with errors():
        level = pilot(db).inventory.receive(sku=sku, warehouse=warehouse, quantity=quantity)
    console.print(level)


@stock_app.command("levels")
def stock_levels(db: DbOption = None) -> None:
    """On hand, reserved and available per sku × warehouse."""
    table = Table("sku", "warehouse", "on hand", "reserved", "available")
    with errors():
        for lv in pilot(db).inventory.levels():
            table.add_row(lv.sku, lv.warehouse, str(lv.on_hand), str(lv.reserved),
                          str(lv.available))
    console.print(table)


@stock_app.command("reconcile")
def stock_reconcile(db: DbOption = None, fix: bool = False) -> None:
    """Recompute reserved stock from live holds and report (or --fix) any drift."""
    with errors():
        drifts = pilot(db).inventory.reconcile(fix=fix)
    if not drifts:
        console.print("no drift: reserved matches the live holds everywhere")
    for d in drifts:
        console.print(f"{d.sku}@{d.warehouse}: recorded {d.recorded}, live holds {d.from_holds}"
                      + (" (fixed)" if fix else ""))
    if drifts and not fix:
        raise typer.Exit(1)


@app.command()
def demo(db: DbOption = None,
         orders: Annotated[int, typer.Option(help="orders to place")] = 300,
         seed: Annotated[int, typer.Option(help="random seed")] = 7,
         fulfilment: Annotated[bool, typer.Option(
             "--fulfilment", help="the warehouse and carrier exception paths instead")] = False
         ) -> None:
    """A simulated shop day on the embedded default store: a few hundred orders end to end."""
    from orderpilot.demo import run_demo
    from orderpilot.demo_fulfil import run_fulfilment_demo

    with errors():
        if fulfilment:
            run_fulfilment_demo(db, console)
        else:
            run_demo(db, orders, seed, console)


# Commands of each area register themselves on the app (after this module's own commands, so
# the help lists them in the same order as ever).
# (cli_fulfil and cli_case_steps register themselves: the latter adds its steps to `case`)
from orderpilot import cli_case_steps, cli_fulfil, cli_integrations  # noqa: E402,F401
from orderpilot.cli_cases import register as _register_cases  # noqa: E402
from orderpilot.cli_import import register as _register_import  # noqa: E402
from orderpilot.cli_orders import register as _register_orders  # noqa: E402
from orderpilot.cli_payments import register as _register_payments  # noqa: E402
from orderpilot.cli_prefect import register as _register_prefect  # noqa: E402
from orderpilot.cli_replay import register as _register_replay  # noqa: E402
from orderpilot.cli_risk import register as _register_risk  # noqa: E402
from orderpilot.cli_stalls import register as _register_stalls  # noqa: E402
from orderpilot.cli_webhooks import register as _register_webhooks  # noqa: E402

_register_risk(app)
cli_integrations.register(app)
_register_replay(app)
_register_prefect(app)
_register_cases(app)
_register_stalls(app)
_register_orders(app)
_register_payments(app)
_register_webhooks(app)
_register_import(app)

if __name__ == "__main__":
    app()
