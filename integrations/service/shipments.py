"""Parcel handlers: apply carrier scans and operator actions; the pipeline cascades to the order.

Parcels are created by the order's `ship` step (statemachine/order.py) or by a claim's reship;
their timers (pickup due, scan silence, promised delivery) are declared with the parcel
lifecycle (statemachine/shipment.py) and re-armed by every scan.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.db.repository import Store
from integrations.service import pipeline
from integrations.service.context import Context, Tx
from integrations.service.idempotency import fire_once
from integrations.service.inputs import SHIPMENT_PARAMS, Scan, trigger_params
from integrations.service.kinds import SHIPMENT
from integrations.service.ship_steps import ship_facts
from statemachine.lifecycle import Fired
from statemachine.order_aggregate import Order
from statemachine.order_effects import parcels_for_labels
from statemachine.shipment import SHIPMENT_LIFECYCLE, Shipment


def open_parcels(store: Store, order_id: int) -> int:
    """Parcels of the order not delivered yet (a lost / returned parcel whose buyer was
    compensated is settled, not awaited)."""
    return store.open_parcels([order_id]).get(order_id, 0)


def create_parcels(ctx: Context, tx: Tx, order: Order, params: dict[str, Any], now: datetime,
                   actor: str) -> list[str]:
    """New parcels for an order outside `ship` (a claim's reship), created as `ship` does."""
    labels = ship_facts(ctx, tx, order, params, pipeline.Move(order, "ship", now, actor))
    changes = [pipeline.create(ctx, tx, SHIPMENT, parcel, actor, parcel.step_payload, now)
               for parcel in parcels_for_labels(order, {**labels, "at": now})]
    pipeline.record(ctx, tx, changes)
    return [change.fired.entity_id for change in changes]


def fire_shipment(ctx: Context, shipment_id: int, trigger: str, actor: str,
                  params: dict[str, Any], idempotency_key: str | None = None,
                  now: datetime | None = None) -> Shipment:
    """Apply a carrier event or an operator action to one parcel (a repeated key applies once)."""
    checked = trigger_params(trigger, SHIPMENT_LIFECYCLE.triggers, SHIPMENT_PARAMS, Scan, params)
    now = now or ctx.clock.now()
    return fire_once(ctx, idempotency_key, trigger, shipment_id,
                     lambda tx, n: tx.store.get_shipment(n, lock=True),
                     lambda tx, shipment: fire(ctx, tx, shipment, trigger, actor, checked, now=now),
                     checked, now)


def fire(ctx: Context, tx: Tx, shipment: Shipment, trigger: str, actor: str,
         params: dict[str, Any], *, now: datetime) -> Fired:
    """The one path every parcel transition takes; delivers the order with its last parcel.
    `now`: the calling service's one clock read."""
    return pipeline.fire(ctx, tx, SHIPMENT, shipment, trigger, actor, params, now)
