"""Parcel handlers: create parcels at ship time, apply carrier scans, cascade to the order.

Each parcel carries its own timers: pickup due (label printed, not collected), scan silence
(moving, but no scan for too long) and promised delivery. A new scan re-arms them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.db.fulfil_store import settled_parcels
from integrations.db.repository import Store
from integrations.service.carriers import pick_carrier
from integrations.service.context import Context, Tx
from integrations.service.idempotency import fire_once
from integrations.service.inputs import SHIPMENT_PARAMS, Scan, trigger_params
from statemachine.lifecycle import Fired
from statemachine.order import Order, OrderState
from statemachine.policies import DeadlineKind
from statemachine.shipment import SHIPMENT_LIFECYCLE, Shipment, ShipmentState, shipment_public_id

MOVING = {ShipmentState.PICKED_UP, ShipmentState.IN_TRANSIT, ShipmentState.OUT_FOR_DELIVERY}
CLOSED = {ShipmentState.DELIVERED, ShipmentState.LOST, ShipmentState.RETURNED_TO_SENDER}


def open_parcels(store: Store, order_id: int) -> int:
    """Parcels of the order not delivered yet (a lost / returned parcel whose buyer was
    compensated is settled, not awaited)."""
    settled = settled_parcels(store.sql, order_id)
    return sum(1 for s in store.shipments_of(order_id)
               if s.state is not ShipmentState.DELIVERED and s.id not in settled)


def create_parcels(ctx: Context, tx: Tx, order: Order, params: dict[str, Any], now: datetime,
                   actor: str) -> list[str]:
    """One parcel per given label, or one per warehouse the order's stock came from."""
    parcels = params.get("parcels") or _default_parcels(ctx, tx, order, params)
    promised = params.get("promised_by") or now + ctx.timeouts.promised_delivery
    warehouses = sorted({h.warehouse for h in tx.stock.holds_of([order.id], status=None)})
    ids = []
    for n, parcel in enumerate(parcels, start=1):
        warehouse = parcel.get("warehouse") or (warehouses[0] if warehouses else "unknown")
        number = tx.store.add_shipment({
            "order_id": order.id, "state": ShipmentState.LABEL_CREATED.value, "version": 1,
            "warehouse": warehouse, "carrier": parcel["carrier"],
            "tracking_no": parcel["tracking_no"], "created_at": now, "last_scan_at": None,
            "promised_by": promised, "stall_reason": None})
        shipment = tx.store.get_shipment(number)
        created = Fired("shipment", shipment.public_id, "create", None, "label_created",
                        "label_created", now, actor, {"parcel": n, **parcel})
        tx.store.record(created, number, order.id, _event_data(shipment))
        _keep_deadlines(ctx, tx.store, shipment, now)
        ids.append(shipment.public_id)
    return ids


def fire_shipment(ctx: Context, shipment_id: int, trigger: str, actor: str,
                  params: dict[str, Any], idempotency_key: str | None = None) -> Shipment:
    """Apply a carrier event or an operator action to one parcel (a repeated key applies once)."""
    checked = trigger_params(trigger, SHIPMENT_LIFECYCLE.triggers, SHIPMENT_PARAMS, Scan, params)
    return fire_once(ctx, idempotency_key, trigger, shipment_id,
                     lambda tx, n: tx.store.get_shipment(n, lock=True),
                     lambda tx, shipment: fire(ctx, tx, shipment, trigger, actor, checked))


def fire(ctx: Context, tx: Tx, shipment: Shipment, trigger: str, actor: str,
         params: dict[str, Any]) -> Fired:
    """The one path every parcel transition takes; delivers the order with its last parcel."""
    now = ctx.clock.now()
    fired = SHIPMENT_LIFECYCLE.fire(shipment, trigger, at=now, actor=actor, **params)
    tx.store.save_shipment(shipment, now)
    _keep_deadlines(ctx, tx.store, shipment, now)
    tx.store.record(fired, shipment.id, shipment.order_id, _event_data(shipment))
    if shipment.state is ShipmentState.DELIVERED:
        _deliver_order_if_complete(ctx, tx, shipment.order_id)
    return fired


def _deliver_order_if_complete(ctx: Context, tx: Tx, order_id: int) -> None:
    from integrations.service import orders  # orders imports this module for parcels

    order = tx.store.get_order(order_id)
    if order.state is OrderState.SHIPPED and open_parcels(tx.store, order_id) == 0:
        orders.fire(ctx, tx, order, "deliver", "system:carrier", {})


def _keep_deadlines(ctx: Context, store: Store, shipment: Shipment, now: datetime) -> None:
    store.clear_deadlines("shipment", shipment.id)
    for kind, due in parcel_timers(ctx, shipment, now):
        store.set_deadline(kind.value, "shipment", shipment.id, shipment.order_id, due)


def parcel_timers(ctx: Context, shipment: Shipment, now: datetime
                  ) -> list[tuple[DeadlineKind, datetime]]:
    """The timers a parcel keeps in its current state (pickup, scan silence, promise).

    The promise stays armed while the parcel is stalled, so a stalled parcel that also misses
    its promised date is flagged late (found by replaying real orders: without it most late
    deliveries went unflagged because the parcel had stalled first).
    """
    timers: list[tuple[DeadlineKind, datetime]] = []
    if shipment.state is ShipmentState.LABEL_CREATED:
        timers.append((DeadlineKind.PICKUP_DUE, shipment.created_at + ctx.timeouts.pickup))
    if shipment.state in MOVING:
        timers.append((DeadlineKind.SCAN_SILENCE, now + ctx.timeouts.scan_silence))
    if shipment.state not in CLOSED and shipment.promised_by and shipment.promised_by > now:
        timers.append((DeadlineKind.PROMISED_DELIVERY, shipment.promised_by))
    return timers


def _default_parcels(ctx: Context, tx: Tx, order: Order,
                     params: dict[str, Any]) -> list[dict[str, Any]]:
    """One parcel per warehouse, each with the carrier selected for it (and why)."""
    warehouses = sorted({h.warehouse for h in tx.stock.holds_of([order.id], status="consumed")})
    return [{**pick_carrier(ctx, tx, order, wh, params), "warehouse": wh,
             "tracking_no": f"{order.public_id}-{n}"} for n, wh in enumerate(warehouses, 1)]


def _event_data(shipment: Shipment) -> dict[str, Any]:
    return {"shipment_id": shipment_public_id(shipment.id), "state": shipment.state.value,
            "carrier": shipment.carrier, "tracking_no": shipment.tracking_no,
            "warehouse": shipment.warehouse}
