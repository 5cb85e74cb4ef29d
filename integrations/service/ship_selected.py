"""Ship with the carrier that selection picks per parcel, buying its waybill from that
carrier's adapter; the reasons go into each parcel's history. (A use case: it lived in
integrations/carriers/selected.py before; the adapters there only speak to carriers.)"""

from __future__ import annotations

from collections.abc import Mapping

from integrations.service import orders
from integrations.service.carriers import parcel_value, pick_carrier
from integrations.service.context import Context
from statemachine.errors import GuardRejected
from statemachine.ports import Carrier, Waybill, WaybillRequest


def ship_selected(ctx: Context, order_no: int, carriers: Mapping[str, Carrier],
                  actor: str) -> list[Waybill]:
    """Select a carrier per warehouse, create its waybill, then `ship` — in one transaction
    (labels bought for a refused ship go unused; carriers void them)."""
    now = ctx.clock.now()  # the ship step's time: selection and `ship` both use it
    with ctx.tx() as tx:
        order = tx.store.get_order(order_no)
        address = order.attrs.get("shipping_address", {})
        warehouses = sorted({h.warehouse for h in tx.stock.holds_of([order_no], "consumed")})
        parcels, waybills = [], []
        for n, wh in enumerate(warehouses, start=1):
            picked = pick_carrier(ctx, tx, order, wh, {}, now)
            adapter = carriers.get(picked["carrier"])
            if adapter is None:
                raise GuardRejected("order", order.public_id, order.state.value, "ship",
                                    f"carrier {picked['carrier']} was selected but has no "
                                    "adapter configured")
            waybill = adapter.create_waybill(WaybillRequest(
                order.public_id, n, wh, address, parcel_value(tx, order, wh)))
            waybills.append(waybill)
            parcels.append({**picked, "warehouse": wh, "tracking_no": waybill.tracking_no})
        orders.fire(ctx, tx, order, "ship", actor, {
            "parcels": parcels, "promised_by": max(w.promised_by for w in waybills)}, now)
        return waybills
