"""Packing facts: which orders need a second person's double check, and sku facts (flags,
bin locations) kept for the warehouse."""

from __future__ import annotations

from collections.abc import Sequence

from integrations.db.fulfil_store import FulfilStore
from integrations.service.context import Context, Tx
from statemachine import ids
from statemachine.fulfilment import SkuFlag, double_check_reasons
from statemachine.order_aggregate import Order


def pack_facts(ctx: Context, tx: Tx, orders: Sequence[Order]) -> dict[int, dict[str, list]]:
    """Per order, what the pack guards need: double-check reasons and refills still in
    transit — two queries for a whole batch (the replay packs thousands at once)."""
    if not orders:  # a batch with nothing to pack (nearly every batch): no statement
        return {}
    store = FulfilStore(tx.connection)
    inbound = store.inbound_for_orders(order.id for order in orders)
    flags = store.flags_of(ln.sku for order in orders for ln in order.lines)
    return {order.id: {
        "double_check_needed": _reasons(ctx, order, flags),
        "inbound_transfers": [f"{ids.TRANSFER(t[0])} ({t[4]} {t[1]} from {t[2]})"
                              for t in inbound.get(order.id, ())]} for order in orders}


def double_check_needed(ctx: Context, tx: Tx, order: Order) -> list[str]:
    """Reasons this order needs a double check before `pack` (empty: it does not)."""
    return _reasons(ctx, order, FulfilStore(tx.connection).flags_of(ln.sku for ln in order.lines))


def _reasons(ctx: Context, order: Order, flags: dict[str, list[str]]) -> list[str]:
    mine = {ln.sku: flags[ln.sku] for ln in order.lines if ln.sku in flags}
    return double_check_reasons(order.total, ctx.settings.fulfilment.double_check_over, mine,
                                order.currency)


def flag_sku(ctx: Context, sku: str, flag: SkuFlag, note: str | None) -> None:
    """Mark a sku high-value / high-return / easily-confused: its orders get double-checked."""
    with ctx.tx() as tx:
        FulfilStore(tx.connection).set_flag(sku, flag.value, note)


def locate_sku(ctx: Context, sku: str, warehouse: str, location: str) -> None:
    """Record the bin a sku is picked from in a warehouse (shown on pick lists)."""
    with ctx.tx() as tx:
        FulfilStore(tx.connection).set_location(sku, warehouse, location)
