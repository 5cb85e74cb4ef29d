"""The bulk path: many transitions of one kind in one unit of work, a few statements per batch.

Each aggregate still goes through its lifecycle's step table, guards and effects (via
`fastfire.fire`, checked against `Lifecycle.fire`); what is
batched is the I/O, on the unit of work's DBAPI connection (`integrations.db.sql.Sql`): one
SELECT to load the batch, one version-checked `UPDATE ... WHERE id = :id AND version = :v`
executemany (the row count must match), one INSERT executemany each for the history and the
outbox, and the deadlines rewritten per batch. The consequences mirror
`integrations.service.orders.fire` / `shipments.fire`; a replay through this path and through
the per-transition service path leaves the same states, history and timers (a test checks).
Triggers with richer consequences (place, ship) stay on the service functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from integrations.db.repository import ORDER_COLS, SHIPMENT_COLS
from integrations.db.stock import _in_list as in_list
from integrations.replay import writes
from integrations.service.context import Context, Tx
from integrations.service.hooks import after_transitions
from integrations.service.orders import STATE_DEADLINES, event_data
from integrations.service.shipments import _event_data as shipment_event_data
from integrations.service.shipments import parcel_timers
from statemachine import fastfire
from statemachine.errors import ConcurrentUpdate, GuardRejected, InvalidTransition
from statemachine.lifecycle import Fired
from statemachine.order import ORDER_LIFECYCLE, Order, OrderLine, OrderState
from statemachine.policies import DeadlineKind
from statemachine.shipment import SHIPMENT_LIFECYCLE, Shipment, ShipmentState

ORDER_TRIGGERS = frozenset({"extend_hold", "pay", "start_picking", "pack", "deliver", "cancel",
                            "close"})
SHIPMENT_TRIGGERS = frozenset({"pick_up", "scan", "out_for_delivery", "deliver"})


@dataclass(frozen=True, slots=True)
class Move:
    """One wanted transition: entity number, trigger, when, who, parameters."""

    id: int
    trigger: str
    at: datetime
    actor: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Refused:
    move: Move
    error: str


def fire_orders(ctx: Context, tx: Tx, moves: Sequence[Move]) -> list[Refused]:
    """Fire order triggers in bulk, in the given order (an order may move several times).

    Refused moves are returned; the rest commit with the caller's transaction.
    """
    unsupported = {m.trigger for m in moves} - ORDER_TRIGGERS
    if unsupported:
        raise ValueError(f"no bulk path for order trigger(s) {sorted(unsupported)}")
    orders = _load_orders(tx, list({m.id: None for m in moves}))
    open_counts = _open_parcels(tx, [m.id for m in moves if m.trigger == "deliver"])
    done: list[tuple[Move, Order, Fired]] = []
    refused: list[Refused] = []
    for move in moves:
        order = orders[move.id]
        try:
            fired = fastfire.fire(ORDER_LIFECYCLE, order, move.trigger, at=move.at,
                                  actor=move.actor, **_derived(order, move, open_counts))
        except (InvalidTransition, GuardRejected) as error:
            refused.append(Refused(move, str(error)))
            continue
        done.append((move, order, fired))
    _save(tx, ORDER_UPDATE, done, _order_changes, "order")
    _move_stock(tx, done)
    _order_deadlines(ctx, tx, done)
    writes.record(tx, [(f, o.id, o.id, event_data(o)) for _, o, f in done])
    # the same post-transition hooks as orders.fire (credit…), batched like the sweep's
    after_transitions(ctx, tx, [(order, fired) for _, order, fired in done])
    return refused


def fire_shipments(ctx: Context, tx: Tx, moves: Sequence[Move]) -> list[Refused]:
    """Fire carrier scans in bulk; a parcel delivered last delivers its order (also in bulk)."""
    unsupported = {m.trigger for m in moves} - SHIPMENT_TRIGGERS
    if unsupported:
        raise ValueError(f"no bulk path for shipment trigger(s) {sorted(unsupported)}")
    parcels = _load_shipments(tx, list({m.id: None for m in moves}))
    done: list[tuple[Move, Shipment, Fired]] = []
    refused: list[Refused] = []
    for move in moves:
        parcel = parcels[move.id]
        try:
            fired = fastfire.fire(SHIPMENT_LIFECYCLE, parcel, move.trigger, at=move.at,
                                  actor=move.actor, **move.params)
        except (InvalidTransition, GuardRejected) as error:
            refused.append(Refused(move, str(error)))
            continue
        done.append((move, parcel, fired))
    _save(tx, SHIPMENT_UPDATE, done, _shipment_changes, "shipment")
    _shipment_deadlines(ctx, tx, done)
    writes.record(tx, [(f, s.id, s.order_id, shipment_event_data(s)) for _, s, f in done])
    delivered = [(m, s) for m, s, _ in done if s.state is ShipmentState.DELIVERED]
    return refused + _deliver_complete_orders(ctx, tx, delivered)


def _derived(order: Order, move: Move, open_counts: dict[int, int]) -> dict[str, Any]:
    """Facts the guards need, as `integrations.service.orders._derived` computes them."""
    params = dict(move.params)
    if move.trigger == "deliver":
        params["open_parcels"] = open_counts.get(move.id, 0)
    elif move.trigger == "extend_hold":
        base = max(order.hold_expires_at or move.at, move.at)
        params["until"] = base + timedelta(minutes=params.pop("minutes"))
    return params


def _deliver_complete_orders(ctx: Context, tx: Tx,
                             delivered: list[tuple[Move, Shipment]]) -> list[Refused]:
    """Mirror of the service cascade: the order is delivered with its last parcel."""
    if not delivered:
        return []
    latest = {s.order_id: m.at for m, s in sorted(delivered, key=lambda d: d[0].at)}
    where, params = in_list("id", list(latest))
    states = dict(tx.store.sql.all(f"SELECT id, state FROM orders WHERE {where}", params))
    still_open = _open_parcels(tx, list(latest))
    moves = [Move(oid, "deliver", at, "system:carrier") for oid, at in latest.items()
             if states[oid] == OrderState.SHIPPED.value and still_open.get(oid, 0) == 0]
    return fire_orders(ctx, tx, moves)


def _load_orders(tx: Tx, ids: list[int]) -> dict[int, Order]:
    sql = tx.store.sql
    where, params = in_list("id", ids)
    rows = sql.all(f"SELECT {ORDER_COLS} FROM orders WHERE {where}", params)
    lines: dict[int, list[OrderLine]] = {}
    where, params = in_list("order_id", ids)
    for r in sql.all("SELECT order_id, line_no, sku, quantity, unit_price, refunded_quantity "
                     f"FROM order_lines WHERE {where} ORDER BY order_id, line_no", params):
        lines.setdefault(r[0], []).append(OrderLine(*r[1:]))
    return {r[0]: tx.store.order_from_row(r, lines.get(r[0], [])) for r in rows}


def _load_shipments(tx: Tx, ids: list[int]) -> dict[int, Shipment]:
    sql = tx.store.sql
    where, params = in_list("id", ids)
    return {r[0]: Shipment(id=r[0], order_id=r[1], state=ShipmentState(r[2]), version=r[3],
                           warehouse=r[4], carrier=r[5], tracking_no=r[6],
                           created_at=sql.when(r[7]), last_scan_at=sql.when(r[8]),
                           promised_by=sql.when(r[9]), stall_reason=r[10],
                           reached=ShipmentState(r[11]) if r[11] else None)
            for r in sql.all(f"SELECT {SHIPMENT_COLS} FROM shipments WHERE {where}", params)}


def _open_parcels(tx: Tx, order_ids: list[int]) -> dict[int, int]:
    if not order_ids:
        return {}
    where, params = in_list("order_id", order_ids)
    rows = tx.store.sql.all(f"SELECT order_id, count(*) FROM shipments WHERE {where} "
                            "AND state != :delivered GROUP BY order_id",
                            {**params, "delivered": ShipmentState.DELIVERED.value})
    return {order_id: count for order_id, count in rows}


def _order_changes(order: Order) -> dict[str, Any]:
    return {"state": order.state.value, "paid": order.paid, "refunded": order.refunded,
            "payment_ref": order.payment_ref, "hold_expires_at": order.hold_expires_at}


def _shipment_changes(shipment: Shipment) -> dict[str, Any]:
    return {"state": shipment.state.value, "last_scan_at": shipment.last_scan_at,
            "stall_reason": shipment.stall_reason,
            "reached": shipment.reached.value if shipment.reached else None}


ORDER_UPDATE = ("UPDATE orders SET state = :state, paid = :paid, refunded = :refunded, "
                "payment_ref = :payment_ref, hold_expires_at = :hold_expires_at, "
                "updated_at = :at, version = :new_version WHERE id = :id AND version = :version")
# `attrs` is left out: no trigger on the bulk path changes it (the service path rewrites it).
SHIPMENT_UPDATE = ("UPDATE shipments SET state = :state, last_scan_at = :last_scan_at, "
                   "stall_reason = :stall_reason, reached = :reached, version = :new_version "
                   "WHERE id = :id AND version = :version")


def _save(tx: Tx, statement: str, done: Sequence[tuple[Move, Any, Fired]],
          changes: Callable[[Any], dict[str, Any]], entity: str) -> None:
    """One version-checked UPDATE executemany per batch; a lost row rolls the batch back.

    An aggregate moved n times in the batch is written once, from version v to v + n.
    """
    moved: dict[int, tuple[Any, int, datetime]] = {}
    for move, agg, _ in done:
        prior = moved.get(agg.id)
        moved[agg.id] = (agg, (prior[1] if prior else 0) + 1, move.at)
    if not moved:
        return
    bind = writes.Binder(tx.store.sql)
    params = [bind({"id": agg.id, "version": agg.version, "new_version": agg.version + n,
                    "at": at, **changes(agg)}) for agg, n, at in moved.values()]
    if tx.store.sql.many(statement, params) != len(params):
        raise ConcurrentUpdate(entity, "batch", -1)
    for agg, n, _ in moved.values():
        agg.version += n


def _move_stock(tx: Tx, done: list[tuple[Move, Order, Fired]]) -> None:
    by_trigger: dict[str, list[int]] = {}
    for move, order, _ in done:
        by_trigger.setdefault(move.trigger, []).append(order.id)
    if by_trigger.get("pay"):
        tx.stock.consume(by_trigger["pay"])
    if by_trigger.get("cancel"):
        tx.stock.release(by_trigger["cancel"])
        tx.stock.restock(by_trigger["cancel"])


def _order_deadlines(ctx: Context, tx: Tx, done: list[tuple[Move, Order, Fired]]) -> None:
    """Net effect of `orders._keep_deadlines` applied move after move, per order."""
    entered: dict[int, Move] = {}  # the move that entered the order's final state
    final: dict[int, Order] = {}
    for move, order, fired in done:
        final[order.id] = order
        if fired.from_state != fired.to_state:
            entered[order.id] = move
    writes.clear(tx, "order", list(entered))
    rows = []
    for number, order in final.items():
        kind = STATE_DEADLINES.get(order.state)
        if kind is None or (number not in entered and kind != DeadlineKind.HOLD_EXPIRY):
            continue
        if number not in entered:
            writes.clear(tx, "order", [number], kind)  # an extended hold moves its timer
        at = entered[number].at if number in entered else order.hold_expires_at
        due = {DeadlineKind.HOLD_EXPIRY: order.hold_expires_at,
               DeadlineKind.REVIEW_SLA: at + ctx.timeouts.review_sla,
               DeadlineKind.AUTO_COMPLETE: at + ctx.timeouts.auto_complete}[kind]
        rows.append({"kind": kind.value, "entity": "order", "entity_id": number,
                     "order_id": number, "due_at": due})
    writes.insert_deadlines(tx, rows)


def _shipment_deadlines(ctx: Context, tx: Tx, done: list[tuple[Move, Shipment, Fired]]) -> None:
    """Net effect of `shipments._keep_deadlines`: the timers after each parcel's last move."""
    last = {s.id: (m, s) for m, s, _ in done}
    writes.clear(tx, "shipment", list(last))
    rows = [{"kind": kind.value, "entity": "shipment", "entity_id": s.id, "order_id": s.order_id,
             "due_at": due} for m, s in last.values() for kind, due in _parcel_timers(ctx, s, m.at)]
    writes.insert_deadlines(tx, rows)


def _parcel_timers(ctx: Context, s: Shipment, now: datetime) -> list[tuple[DeadlineKind, Any]]:
    """The timers `shipments._keep_deadlines` keeps for a parcel in its new state."""
    return parcel_timers(ctx, s, now)
