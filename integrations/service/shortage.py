"""A short pick: the allocated warehouse cannot find (or finds damaged) units of a paid order.

The missing units leave the order's sold stock as a recorded adjustment (count error or
damage), then come from the nearest warehouse that can serve them all (distance table), else
from several in turn (a split parcel), else the order is `backordered`: the buyer is told
(outbox) and may wait for stock (`retry_backorder`) or cancel with a full refund.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.db.fulfil_store import FulfilStore
from integrations.service import orders
from integrations.service.context import Context, Tx
from statemachine import ids
from statemachine.errors import GuardRejected, InsufficientStock, InvalidInput
from statemachine.fulfilment import Source, plan_refill
from statemachine.order_aggregate import Order, OrderState

SHORT_KINDS = ("count", "damage")


def report_short(ctx: Context, order_id: int, sku: str, warehouse: str, missing: int,
                 kind: str, reason: str, actor: str) -> Order:
    """Write off the missing units and refill from a neighbour, or backorder the order (all
    at one time)."""
    if kind not in SHORT_KINDS:
        raise InvalidInput({"kind": f"expected one of {', '.join(SHORT_KINDS)} (got {kind!r})"})
    now = ctx.clock.now()
    with ctx.tx() as tx:
        order = tx.store.get_order(order_id)
        if order.state is not OrderState.PICKING:
            raise GuardRejected("order", order.public_id, order.state.value, "report_short",
                                "a short pick is reported while the order is picking")
        store = FulfilStore(tx.connection)
        _write_off_sold(store, order, sku, warehouse, missing, kind, reason, actor, now)
        shortage = {"sku": sku, "warehouse": warehouse, "missing": missing, "kind": kind,
                    "reason": reason}
        moved = _refill(ctx, tx, store, order, warehouse, now)
        if moved is None:
            _backorder(ctx, tx, order, actor, shortage, now)
        else:
            orders.fire(ctx, tx, order, "reallocate", actor,
                        {"shortage": shortage, "allocation": moved,
                         "reason": f"{missing} {sku} short in {warehouse}"}, now=now)
        return order


def _write_off_sold(store: FulfilStore, order: Order, sku: str, warehouse: str, missing: int,
                    kind: str, reason: str, actor: str, now: datetime) -> None:
    holds = store.holds(order.id, warehouse=warehouse, sku=sku)
    have = sum(h.quantity for h in holds)
    if not isinstance(missing, int) or not 0 < missing <= have:
        raise InvalidInput({"missing": f"expected 1–{have} (the order's {sku} in {warehouse}; "
                                       f"got {missing!r})"})
    left = missing
    for hold in reversed(holds):
        take = min(hold.quantity, left)
        store.split_hold(hold, take, "shorted")
        left -= take
        if left == 0:
            break
    store.record_adjustment(sku, warehouse, -missing, f"short_pick:{kind}", reason, actor,
                            now, order.id)


def _refill(ctx: Context, tx: Tx, store: FulfilStore, order: Order, origin: str,
            now: datetime, include_origin: bool = False) -> list[list[Any]] | None:
    """Take every unserved unit from the nearest warehouses; None (nothing taken) if any
    line cannot be served."""
    plans = []
    for line_no, sku, missing in _unserved(store, order):
        free = {wh: q for (_, wh), q in tx.stock.availability([sku]).items()}
        sources = plan_refill(missing, origin, free, ctx.settings.fulfilment.distance,
                              include_origin=include_origin)
        if not sources:
            return None
        plans.append((line_no, sku, sources))
    moved = []
    for line_no, sku, sources in plans:
        for src in sources:
            moved.append(_take(ctx, store, order, line_no, sku, src, origin, now))
    return moved


def _take(ctx: Context, store: FulfilStore, order: Order, line_no: int, sku: str, src: Source,
          origin: str, now: datetime) -> list[Any]:
    """Sell the units from `src` now, or (transfer policy) send them to the origin first."""
    if ctx.settings.fulfilment.refill == "transfer" and origin and src.warehouse != origin:
        number = store.send_transfer(sku, src.warehouse, origin, src.quantity,
                                     f"refill for {order.public_id}", "system:refill", now,
                                     order.id, line_no)
        return [sku, src.warehouse, src.quantity, ids.TRANSFER(number)]
    if not store.consume_from(order.id, line_no, sku, src.warehouse, src.quantity, now):
        raise InsufficientStock(sku, src.quantity, 0)  # a race: the tx rolls back
    return [sku, src.warehouse, src.quantity]


def _unserved(store: FulfilStore, order: Order) -> list[tuple[int, str, int]]:
    """(line_no, sku, units) the order has paid for but has no sold stock for."""
    served: dict[int, int] = {}
    for hold in store.holds(order.id):
        served[hold.line_no] = served.get(hold.line_no, 0) + hold.quantity
    for transfer in store.inbound_for(order.id):  # on its way to the order's warehouse
        served[transfer[12]] = served.get(transfer[12], 0) + transfer[4]
    return [(ln.line_no, ln.sku, ln.quantity - served.get(ln.line_no, 0))
            for ln in order.lines if ln.quantity > served.get(ln.line_no, 0)]


def _backorder(ctx: Context, tx: Tx, order: Order, actor: str,
               shortage: dict[str, Any], now: datetime) -> None:
    orders.fire(ctx, tx, order, "backorder", actor,
                {"shortage": shortage, "reason": "no warehouse can serve the missing units"},
                now=now)
    tx.writer.signal("buyer_notice", "order", order.id, order.id, now, {
        "buyer_id": order.buyer_id, "topic": "out_of_stock",
        "message": f"{shortage['sku']} is out of stock; we will ship as soon as it is back, "
                   "or you can cancel for a full refund",
        "options": ["wait", "cancel"]})


def retry_backorder(ctx: Context, order_id: int, actor: str) -> Order:
    """Stock came back: allocate the missing units and return the order to picking."""
    now = ctx.clock.now()
    with ctx.tx() as tx:
        order = tx.store.get_order(order_id)
        if order.state is not OrderState.BACKORDERED:
            raise GuardRejected("order", order.public_id, order.state.value, "reallocate",
                                "only a backordered order waits for stock")
        store = FulfilStore(tx.connection)
        origin = min((h.warehouse for h in store.holds(order.id, "shorted")), default="")
        moved = _refill(ctx, tx, store, order, origin, now, include_origin=True)
        if moved is None:
            line_no, sku, missing = _unserved(store, order)[0]
            raise InsufficientStock(sku, missing, _free_total(tx, sku))
        orders.fire(ctx, tx, order, "reallocate", actor,
                    {"allocation": moved, "reason": "stock is available again"}, now=now)
        return order


def _free_total(tx: Tx, sku: str) -> int:
    return sum(q for q in tx.stock.availability([sku]).values() if q > 0)

