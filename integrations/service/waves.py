"""Pick waves: paid orders grouped per warehouse under a carrier cut-off, released together.

Releasing a wave fires `start_picking` on each of its orders in one transaction; an order that
moved on meanwhile (cancelled, or already picking from another warehouse's wave) is recorded as
such, not an error. A pick list sums the wave's units per sku and bin location.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from integrations.db import waves_store
from integrations.db.fulfil_store import FulfilStore
from integrations.service import orders
from integrations.service.context import Context, Tx
from statemachine import ids
from statemachine.errors import GuardRejected, NotFound
from statemachine.fulfilment import WaveCandidate, next_cutoff, plan_wave
from statemachine.order_aggregate import OrderState


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
        return waves_store.create(tx.store.sql, warehouse, carrier, cutoff, actor, now, chosen)


def _candidates(tx: Tx, warehouse: str) -> list[WaveCandidate]:
    """Paid orders with sold stock in this warehouse that are in no wave there yet."""
    return [WaveCandidate(number, paid_at, attrs.get("service") == "express")
            for number, paid_at, attrs in waves_store.waiting(tx.store.sql, warehouse)]


def release_wave(ctx: Context, wave_id: int, actor: str) -> dict[str, str]:
    """Start picking every order of an open wave; returns order → outcome."""
    now = ctx.clock.now()
    with ctx.tx() as tx:
        wave = get_wave(tx, wave_id)
        if wave["state"] != "open":
            raise GuardRejected("wave", ids.WAVE(wave_id), wave["state"], "release",
                                f"already released by {wave['released_by']}")
        outcomes = {}
        for number in wave["order_ids"]:
            outcomes[ids.ORDER(number)] = outcome = _start(ctx, tx, number, actor, wave_id, now)
            waves_store.set_outcome(tx.store.sql, wave_id, number, outcome)
        waves_store.mark_released(tx.store.sql, wave_id, actor, now)
        return outcomes


def _start(ctx: Context, tx: Tx, number: int, actor: str, wave_id: int, now: datetime) -> str:
    order = tx.store.get_order(number)
    if order.state is OrderState.PAID:
        orders.fire(ctx, tx, order, "start_picking", actor, {"wave": ids.WAVE(wave_id)},
                    now=now)
        return "picking"
    if order.state is OrderState.PICKING:
        return "already picking"
    return f"skipped: order is {order.state.value}"


def get_wave(tx: Tx, wave_id: int) -> dict[str, Any]:
    wave = waves_store.wave(tx.store.sql, wave_id)
    if wave is None:
        raise NotFound("wave", ids.WAVE(wave_id))
    return wave


def list_waves(tx: Tx, state: str | None = None) -> list[dict[str, Any]]:
    return waves_store.waves(tx.store.sql, state)


def pick_list(tx: Tx, wave_id: int) -> list[dict[str, Any]]:
    """Units to pick for a wave, per sku and bin, in walking order (by location)."""
    wave = get_wave(tx, wave_id)
    rows = waves_store.units(tx.store.sql, wave["order_ids"], wave["warehouse"])
    where_bins = FulfilStore(tx.connection).locations(wave["warehouse"])
    lines: dict[str, dict[str, Any]] = {}
    for sku, order_id, quantity in rows:
        line = lines.setdefault(sku, {"sku": sku, "location": where_bins.get(sku, ""),
                                      "quantity": 0, "orders": []})
        line["quantity"] += int(quantity)
        line["orders"].append(ids.ORDER(order_id))
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
