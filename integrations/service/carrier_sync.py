"""Shipping through the carrier adapters: ship with waybills, chase stalled parcels.

A use case of the application wing (it lived in integrations/carriers/sync.py before): the
carrier adapters only speak to the carrier; the reads are the store's (integrations/db/).
Polling a carrier's tracking is an inbound path: `integrations.ingest.tracking.poll_parcel`.
"""

from __future__ import annotations

from collections.abc import Mapping

from integrations.db import records
from integrations.service import orders
from integrations.service.context import Context
from statemachine import ids
from statemachine.ports import Carrier, ChaseTicket, Waybill, WaybillRequest

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
                             f"chased {name} about {ids.SHIPMENT(shipment_id)} ({tracking_no}): "
                             f"ticket {ticket.ticket_id}, {ticket.reason}", ctx.clock.now())
        tickets.append(ticket)
    return tickets


def _stalled(ctx: Context) -> list[tuple]:
    with ctx.tx(readonly=True) as tx:
        return tx.store.stalled_parcels()


def _already_chased(ctx: Context, shipment_id: int, order_id: int) -> bool:
    with ctx.tx(readonly=True) as tx:
        stalled_at = tx.store.last_fired_at("shipment", shipment_id, order_id, "stall")
        mention = f"{ids.SHIPMENT(shipment_id)} "
        return any(n.author == CHASER and mention in n.text and n.at >= stalled_at
                   for n in records.notes_of(tx.connection, order_id))
