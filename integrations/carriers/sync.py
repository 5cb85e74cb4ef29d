"""Carrier adapters wired to the store: ship with waybills, poll tracking, chase stalled parcels.

Polled tracking events go through the same ingestion path as carrier webhooks, keyed by the
carrier's event id, so polling again (or a webhook for the same event) changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from integrations.db.repository import HISTORY, SHIPMENTS
from integrations.ingest import handlers, records
from integrations.ingest.events import CarrierEvent
from integrations.ingest.once import Outcome
from integrations.service import orders
from integrations.service.context import Context
from statemachine.ports import Carrier, ChaseTicket, Waybill, WaybillRequest
from statemachine.shipment import ShipmentState
from statemachine.tracking import CarrierStatus

CHASER = "system:carrier-chase"


def ship_order(ctx: Context, order_no: int, carrier: Carrier, actor: str) -> list[Waybill]:
    """One waybill per warehouse the order's stock came from, then `ship` with them.

    Waybills are bought before the transition: if `ship` is refused, the labels go unused
    (carriers void unused labels), the order is unchanged."""
    with ctx.tx(readonly=True) as tx:
        order = tx.store.get_order(order_no)
        warehouses = sorted({h.warehouse for h in tx.stock.holds_of([order_no], status="consumed")})
    address = order.attrs.get("shipping_address", {})
    waybills = [carrier.create_waybill(WaybillRequest(order.public_id, n, wh, address,
                                                      order.total // len(warehouses)))
                for n, wh in enumerate(warehouses, start=1)]
    parcels = [{"carrier": w.carrier, "tracking_no": w.tracking_no, "warehouse": wh}
               for w, wh in zip(waybills, warehouses, strict=True)]
    orders.fire_order(ctx, order_no, "ship", actor,
                      {"parcels": parcels, "promised_by": max(w.promised_by for w in waybills)})
    return waybills


def poll_parcel(ctx: Context, carrier: Carrier, tracking_no: str) -> list[Outcome]:
    """Apply every tracking event the carrier has for the parcel (repeats are replays)."""
    return [handlers.carrier_event(ctx, CarrierEvent(
                event_id=e.event_id, carrier=carrier.profile.name, tracking_no=tracking_no,
                status=e.status, location=e.location, occurred_at=e.at))
            for e in carrier.tracking(tracking_no) if e.status is not CarrierStatus.LABEL_CREATED]


def chase_stalled(ctx: Context, carriers: Mapping[str, Carrier]) -> list[ChaseTicket]:
    """Chase each stalled parcel once per stall; the carrier's ticket is noted on the order."""
    tickets = []
    for shipment_id, order_id, name, tracking_no, reason in _stalled(ctx):
        carrier = carriers.get(name)
        if carrier is None or _already_chased(ctx, shipment_id, order_id):
            continue
        ticket = carrier.chase(tracking_no, reason or "no carrier scan")
        with ctx.tx() as tx:
            records.note_add(tx.connection, order_id, "note", CHASER,
                             f"chased {name} about s-{shipment_id} ({tracking_no}): ticket "
                             f"{ticket.ticket_id}, {ticket.reason}", ctx.clock.now())
        tickets.append(ticket)
    return tickets


def _stalled(ctx: Context) -> list[tuple]:
    c = SHIPMENTS.c
    with ctx.tx(readonly=True) as tx:
        return [tuple(r) for r in tx.connection.execute(
            select(c.id, c.order_id, c.carrier, c.tracking_no, c.stall_reason)
            .where(c.state == ShipmentState.STALLED.value).order_by(c.id))]


def _already_chased(ctx: Context, shipment_id: int, order_id: int) -> bool:
    with ctx.tx(readonly=True) as tx:
        stalled_at = tx.connection.execute(
            select(HISTORY.c.at).where(HISTORY.c.entity == "shipment",
                                       HISTORY.c.entity_id == shipment_id,
                                       HISTORY.c.trigger == "stall")
            .order_by(HISTORY.c.id.desc())).scalar()
        return any(n.author == CHASER and f"s-{shipment_id} " in n.text and n.at >= stalled_at
                   for n in records.notes_of(tx.connection, order_id))
