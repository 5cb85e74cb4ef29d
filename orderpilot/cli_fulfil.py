"""`orderpilot wave|sku|pick|claim …` and the fulfilment `stock …` commands: thin calls into the
fulfilment parts of the Python API (`pilot.waves`, `pilot.fulfilment`, `pilot.claims`)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from orderpilot.cli_common import DbOption, app, console, errors, kv, pilot, stock_app
from statemachine import ids

wave_app = typer.Typer(help="Pick waves: group paid orders per warehouse, release to picking.",
                       no_args_is_help=True)
sku_app = typer.Typer(help="Sku facts for the warehouse: double-check flags, bins.",
                      no_args_is_help=True)
pick_app = typer.Typer(help="Exceptions at picking: short picks and backorders.",
                       no_args_is_help=True)
claim_app = typer.Typer(help="Lost, damaged and returned parcels; carrier claims.",
                        no_args_is_help=True)
app.add_typer(wave_app, name="wave")
app.add_typer(sku_app, name="sku")
app.add_typer(pick_app, name="pick")
app.add_typer(claim_app, name="claim")

By = Annotated[str, typer.Option("--by", help="who is acting")]


@wave_app.command("create")
def wave_create(warehouse: str, db: DbOption = None, by: By = "cli",
                carrier: Annotated[str | None, typer.Option(help="carrier (cut-off)")] = None,
                size: Annotated[int | None, typer.Option(help="orders at most")] = None) -> None:
    """Put the most urgent paid orders of WAREHOUSE into a new wave."""
    with errors():
        wave = pilot(db).waves.create(warehouse=warehouse, carrier=carrier, size=size, actor=by)
    if wave is None:
        console.print(f"no paid orders waiting for a wave in {warehouse}")
        return
    console.print(f"wave [bold]{wave['id']}[/] {warehouse} → {wave['carrier']} cut-off "
                  f"{wave['cutoff_at']:%Y-%m-%d %H:%M}: {len(wave['orders'])} orders "
                  f"({', '.join(wave['orders'])})")


@wave_app.command("list")
def wave_list(db: DbOption = None,
              state: Annotated[str | None, typer.Option(help="open or released")] = None) -> None:
    """Waves by carrier cut-off."""
    table = Table("wave", "warehouse", "carrier", "cut-off", "state", "orders", "by")
    with errors():
        for w in pilot(db).waves.list(state=state):
            table.add_row(w["id"], w["warehouse"], w["carrier"], f"{w['cutoff_at']:%m-%d %H:%M}",
                          w["state"], str(len(w["orders"])), w["released_by"] or w["created_by"])
    console.print(table)


@wave_app.command("release")
def wave_release(wave_id: str, db: DbOption = None, by: By = "cli") -> None:
    """Start picking every order of the wave."""
    with errors():
        outcomes = pilot(db).waves.release(wave_id, actor=by)
    for order_id, outcome in outcomes.items():
        console.print(f"{order_id}: {outcome}")


@wave_app.command("picklist")
def wave_picklist(wave_id: str, db: DbOption = None,
                  fmt: Annotated[str, typer.Option("--format", help="csv or markdown")] = "csv"
                  ) -> None:
    """Print the wave's pick list (sku, location, quantity, orders)."""
    with errors():
        print(pilot(db).waves.pick_list(wave_id, fmt=fmt), end="")


@sku_app.command("flag")
def sku_flag(sku: str, flag: str, db: DbOption = None,
             note: Annotated[str | None, typer.Option()] = None) -> None:
    """Flag a sku high_value, high_return or easily_confused (double check at packing)."""
    with errors():
        pilot(db).fulfilment.flag_sku(sku, flag, note=note)
    console.print(f"{sku} flagged {flag}")


@sku_app.command("weight")
def sku_weight(sku: str, grams: int, db: DbOption = None) -> None:
    """Record a sku's shipping weight (carrier selection sums it per parcel)."""
    with errors():
        pilot(db).fulfilment.set_weight(sku, grams)
    console.print(f"{sku}: {grams} g")


@app.command("carrier-kpis")
def carrier_kpis(db: DbOption = None) -> None:
    """The KPI job: recompute carrier on-time / loss / complaint rates for carrier selection."""
    table = Table("carrier", "parcels", "on time", "loss", "complaints")
    with errors():
        for name, k in pilot(db).fulfilment.refresh_carrier_kpis().items():
            table.add_row(name, str(k["parcels"]), *(
                "n/a" if v is None else f"{v:.1%}"
                for v in (k["on_time"], k["loss_rate"], k["complaint_rate"])))
    console.print(table)


@sku_app.command("locate")
def sku_locate(sku: str, warehouse: str, location: str, db: DbOption = None) -> None:
    """Record the bin of a sku in a warehouse."""
    with errors():
        pilot(db).fulfilment.locate(sku, warehouse, location)
    console.print(f"{sku} in {warehouse} at {location}")


@pick_app.command("short")
def pick_short(order_id: str, sku: str, warehouse: str, missing: int, db: DbOption = None,
               by: By = "cli", reason: Annotated[str, typer.Option()] = "short at picking",
               kind: Annotated[str, typer.Option(help="count or damage")] = "count") -> None:
    """Report MISSING units of SKU short in WAREHOUSE for a picking order."""
    with errors():
        order = pilot(db).fulfilment.report_short(order_id, sku=sku, warehouse=warehouse,
                                                  missing=missing, kind=kind, reason=reason,
                                                  actor=by)
    console.print(f"{order.id} is now [bold]{order.state}[/]")


@pick_app.command("retry")
def pick_retry(order_id: str, db: DbOption = None, by: By = "cli") -> None:
    """Allocate a backordered order's missing units now."""
    with errors():
        order = pilot(db).fulfilment.retry_backorder(order_id, actor=by)
    console.print(f"{order.id} is now [bold]{order.state}[/]")


@stock_app.command("adjust")
def stock_adjust(sku: str, warehouse: str, delta: int, db: DbOption = None, by: By = "cli",
                 kind: Annotated[str, typer.Option(help="count or damage")] = "count",
                 reason: Annotated[str, typer.Option(help="why")] = "") -> None:
    """Correct a count (±DELTA) or write off damaged stock (−DELTA), with who and why."""
    with errors():
        number = pilot(db).fulfilment.adjust_stock(sku=sku, warehouse=warehouse, delta=delta,
                                                   kind=kind, reason=reason, actor=by)
    console.print(f"adjustment {number}: {sku}@{warehouse} {delta:+d} ({kind}: {reason})")


@stock_app.command("adjustments")
def stock_adjustments(db: DbOption = None, sku: Annotated[str | None, typer.Option()] = None
                      ) -> None:
    """Every recorded adjustment, with who and why."""
    table = Table("at", "sku", "warehouse", "delta", "kind", "by", "order", "reason")
    with errors():
        for a in pilot(db).fulfilment.adjustments(sku):
            table.add_row(a["at"].isoformat(timespec="seconds"), a["sku"], a["warehouse"],
                          f"{a['delta']:+d}", a["kind"], a["actor"],
                          ids.ORDER(a["order_id"]) if a["order_id"] else "", a["reason"])
    console.print(table)


@stock_app.command("transfer")
def stock_transfer(sku: str, from_warehouse: str, to_warehouse: str, quantity: int,
                   db: DbOption = None, by: By = "cli",
                   reason: Annotated[str, typer.Option()] = "rebalance") -> None:
    """Send free stock to another warehouse (in transit until received)."""
    with errors():
        number = pilot(db).fulfilment.send_transfer(
            sku=sku, from_warehouse=from_warehouse, to_warehouse=to_warehouse,
            quantity=quantity, reason=reason, actor=by)
    console.print(f"transfer {number}: {quantity} {sku} {from_warehouse} → {to_warehouse}")


@stock_app.command("receive-transfer")
def stock_receive_transfer(transfer_id: str, db: DbOption = None, by: By = "cli") -> None:
    """Put an arrived transfer on the receiving warehouse's shelf."""
    with errors():
        t = pilot(db).fulfilment.receive_transfer(transfer_id, actor=by)
    console.print(f"{t['id']}: {t['quantity']} {t['sku']} received in {t['to_warehouse']}")


@stock_app.command("ledger")
def stock_ledger(db: DbOption = None) -> None:
    """Ledger terms: on hand + in transit + shipped = received + Σ adjustments."""
    with errors():
        console.print(pilot(db).fulfilment.ledger())


@claim_app.command("list")
def claim_list(db: DbOption = None, state: Annotated[str | None, typer.Option()] = None) -> None:
    """Parcel claims: kind, how the buyer was compensated, the carrier side."""
    table = Table("claim", "order", "parcel", "kind", "state", "buyer got", "claimed",
                  "recovered")
    with errors():
        for c in pilot(db).claims.list(state=state):
            table.add_row(c["id"], c["order_id"], c["shipment_id"], c["kind"], c["state"],
                          f"{c['compensation']} {c['compensated']}", str(c["claimed"]),
                          str(c["recovered"]))
    console.print(table)


@claim_app.command("lost")
def claim_lost(shipment_id: str, db: DbOption = None, by: By = "cli",
               reason: Annotated[str, typer.Option()] = "carrier confirmed loss",
               settle: Annotated[str | None, typer.Option(help="refund or reship")] = None
               ) -> None:
    """The parcel is lost: compensate the buyer, file the carrier claim."""
    with errors():
        c = pilot(db).claims.report_lost(shipment_id, reason=reason, settle=settle, actor=by)
    console.print(f"{c['id']}: buyer compensated by {c['compensation']}; claim {c['state']}")


@claim_app.command("return")
def claim_return(shipment_id: str, result: str, db: DbOption = None, by: By = "cli",
                 notes: Annotated[str | None, typer.Option()] = None,
                 settle: Annotated[str | None, typer.Option(help="refund or reship")] = None
                 ) -> None:
    """A returned parcel arrived: RESULT ok (restock) or damaged (write off)."""
    with errors():
        c = pilot(db).claims.receive_return(shipment_id, result=result, notes=notes,
                                            settle=settle, actor=by)
    console.print(f"{c['id']}: {result}; buyer settled by {c['compensation']}")


@claim_app.command("fire")
def claim_fire(claim_id: str, trigger: str, db: DbOption = None, by: By = "cli",
               param: Annotated[list[str] | None, typer.Option("--param", "-p")] = None
               ) -> None:
    """carrier_pay -p amount=… / carrier_reject -p reason=… / close."""
    params = dict(kv(p) for p in param or [])
    with errors():
        c = pilot(db).claims.fire(claim_id, trigger, actor=by, **params)
    console.print(json.dumps({k: c[k] for k in ("id", "state", "claimed", "recovered")}))
