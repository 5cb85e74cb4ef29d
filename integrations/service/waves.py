"""Pick waves: paid orders grouped per warehouse under a carrier cut-off, released together.

Releasing a wave fires `start_picking` on each of its orders in one transaction; an order that
moved on meanwhile (cancelled, or already picking from another warehouse's wave) is recorded as
such, not an error. A pick list sums the wave's units per sku and bin location.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from integrations.db.fulfil_store import FulfilStore
from integrations.db.stock import _in_list
from integrations.service import orders
from integrations.service.context import Context, Tx
from statemachine.errors import GuardRejected, NotFound
from statemachine.fulfilment import WaveCandidate, next_cutoff, plan_wave
from statemachine.order import OrderState

WAVE_COLS = ("id, warehouse, carrier, cutoff_at, state, created_by, created_at, released_by, "
             "released_at")


def create_wave(ctx: Context, warehouse: str, carrier: str | None, size: int | None,
                actor: str) -> int | None:
    """Put the most urgent paid orders of a warehouse into a new wave (None: nothing waits)."""
    policy, now = ctx.settings.fulfilment, ctx.clock.now()
    carrier = carrier or ctx.settings.default_carrier
    with ctx.tx() as tx:
        chosen = plan_wave(_candidates(tx, warehouse), size or policy.wave_size)
        if not chosen:
            return None
        cutoff = next_cutoff(now, policy.cutoffs.get(carrier, "23:59"))
        wave_id = tx.store.sql.insert_id(
            "INSERT INTO waves (warehouse, carrier, cutoff_at, state, created_by, created_at) "
            "VALUES (:wh, :carrier, :cutoff, 'open', :actor, :at)",
            {"wh": warehouse, "carrier": carrier, "cutoff": cutoff, "actor": actor, "at": now})
        tx.store.sql.many("INSERT INTO wave_orders (wave_id, order_id, warehouse, position) "
                          "VALUES (:w, :o, :wh, :pos)",
                          [{"w": wave_id, "o": o, "wh": warehouse, "pos": n}
                           for n, o in enumerate(chosen, start=1)])
        return wave_id


def _candidates(tx: Tx, warehouse: str) -> list[WaveCandidate]:
    """Paid orders with sold stock in this warehouse that are in no wave there yet."""
    rows = tx.store.sql.all(
        "SELECT o.id, o.attrs FROM orders o WHERE o.state = 'paid' AND EXISTS (SELECT 1 FROM "
        "stock_holds h WHERE h.order_id = o.id AND h.warehouse = :wh AND h.status = 'consumed')"
        " AND NOT EXISTS (SELECT 1 FROM wave_orders w WHERE w.order_id = o.id AND "
        "w.warehouse = :wh)",
        {"wh": warehouse})
    if not rows:
        return []
    where, params = _in_list("order_id", [r[0] for r in rows])
    paid_at = dict(tx.store.sql.all(
        "SELECT order_id, MAX(at) FROM transition_history WHERE entity = 'order' AND "
        f"trigger = 'pay' AND {where} GROUP BY order_id", params))
    return [WaveCandidate(r[0], tx.store.sql.when(paid_at[r[0]]),
                          (tx.store.sql.doc(r[1]) or {}).get("service") == "express")
            for r in rows]


def release_wave(ctx: Context, wave_id: int, actor: str) -> dict[str, str]:
    """Start picking every order of an open wave; returns order → outcome."""
    now = ctx.clock.now()
    with ctx.tx() as tx:
        wave = get_wave(tx, wave_id)
        if wave["state"] != "open":
            raise GuardRejected("wave", f"w-{wave_id}", wave["state"], "release",
                                f"already released by {wave['released_by']}")
        outcomes = {}
        for number in wave["order_ids"]:
            outcomes[f"o-{number}"] = outcome = _start(ctx, tx, number, actor, wave_id)
            tx.store.sql.run("UPDATE wave_orders SET outcome = :out WHERE wave_id = :w AND "
                             "order_id = :o", {"out": outcome, "w": wave_id, "o": number})
        tx.store.sql.run("UPDATE waves SET state = 'released', released_by = :a, "
                         "released_at = :at WHERE id = :id", {"a": actor, "at": now, "id": wave_id})
        return outcomes


def _start(ctx: Context, tx: Tx, number: int, actor: str, wave_id: int) -> str:
    order = tx.store.get_order(number)
    if order.state is OrderState.PAID:
        orders.fire(ctx, tx, order, "start_picking", actor, {"wave": f"w-{wave_id}"})
        return "picking"
    if order.state is OrderState.PICKING:
        return "already picking"
    return f"skipped: order is {order.state.value}"


def get_wave(tx: Tx, wave_id: int) -> dict[str, Any]:
    row = tx.store.sql.one(f"SELECT {WAVE_COLS} FROM waves WHERE id = :id", {"id": wave_id})
    if row is None:
        raise NotFound("wave", f"w-{wave_id}")
    return _wave(tx, row)


def list_waves(tx: Tx, state: str | None = None) -> list[dict[str, Any]]:
    where = "WHERE state = :s " if state else ""
    return [_wave(tx, r) for r in tx.store.sql.all(
        f"SELECT {WAVE_COLS} FROM waves {where}ORDER BY cutoff_at, id", {"s": state})]


def _wave(tx: Tx, row: tuple) -> dict[str, Any]:
    wave = dict(zip(WAVE_COLS.split(", "), row, strict=True))
    for key in ("cutoff_at", "created_at", "released_at"):
        wave[key] = tx.store.sql.when(wave[key])
    members = tx.store.sql.all("SELECT order_id, outcome FROM wave_orders WHERE wave_id = :w "
                               "ORDER BY position", {"w": wave["id"]})
    wave["order_ids"] = [m[0] for m in members]
    wave["outcomes"] = {f"o-{m[0]}": m[1] for m in members if m[1]}
    return wave


def pick_list(tx: Tx, wave_id: int) -> list[dict[str, Any]]:
    """Units to pick for a wave, per sku and bin, in walking order (by location)."""
    wave = get_wave(tx, wave_id)
    where, params = _in_list("order_id", wave["order_ids"])
    rows = tx.store.sql.all(
        f"SELECT sku, order_id, SUM(quantity) FROM stock_holds WHERE {where} AND warehouse = :wh"
        " AND status = 'consumed' GROUP BY sku, order_id ORDER BY sku, order_id",
        {**params, "wh": wave["warehouse"]})
    where_bins = FulfilStore(tx.connection).locations(wave["warehouse"])
    lines: dict[str, dict[str, Any]] = {}
    for sku, order_id, quantity in rows:
        line = lines.setdefault(sku, {"sku": sku, "location": where_bins.get(sku, ""),
                                      "quantity": 0, "orders": []})
        line["quantity"] += int(quantity)
        line["orders"].append(f"o-{order_id}")
    return sorted(lines.values(), key=lambda ln: (ln["location"] or "~", ln["sku"]))


def render_pick_list(lines: list[dict[str, Any]], fmt: str) -> str:
    """The pick list as CSV or a Markdown table."""
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["sku", "location", "quantity", "orders"])
        for ln in lines:
            writer.writerow([ln["sku"], ln["location"], ln["quantity"], " ".join(ln["orders"])])
        return out.getvalue()
    rows = ["| sku | location | quantity | orders |", "|---|---|---:|---|"]
    rows += [f"| {ln['sku']} | {ln['location'] or '—'} | {ln['quantity']} | "
             f"{', '.join(ln['orders'])} |" for ln in lines]
    return "\n".join(rows) + "\n"
