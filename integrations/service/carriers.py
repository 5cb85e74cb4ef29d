"""Carrier selection at ship time: the parcel's facts (destination, weight, value, promised
date) and the carriers' KPIs from our own parcel history go into `choose_carrier`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from integrations.service.context import Context, Tx
from statemachine.carrier_choice import CarrierKpi, CarrierOption, ParcelNeeds, choose_carrier
from statemachine.errors import GuardRejected
from statemachine.order import Order


def pick_carrier(ctx: Context, tx: Tx, order: Order, warehouse: str,
                 params: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The carrier for the order's parcel from `warehouse`, with the reasons (recorded in the
    parcel's history); the default carrier when no catalogue is configured. `now`: the ship
    step's time (a bulk batch ships at the moves' times, not the clock's)."""
    policy = ctx.settings.fulfilment
    if not policy.carriers:
        return {"carrier": ctx.settings.default_carrier}
    options = [CarrierOption(name, tuple(spec.regions), spec.max_weight_g, spec.transit_days,
                             spec.insured_up_to, spec.cost)
               for name, spec in sorted(policy.carriers.items())]
    choice = choose_carrier(options, _needs(ctx, tx, order, warehouse, params, now),
                            stored_kpis(tx))
    if choice.carrier is None:
        why = "; ".join(f"{name}: {reason}" for name, reason in choice.rejected.items())
        raise GuardRejected("order", order.public_id, "packed", "ship",
                            f"no carrier can take the parcel from {warehouse} ({why})")
    picked = {"carrier": choice.carrier, "carrier_reasons": choice.reasons}
    if choice.rejected:
        picked["carriers_rejected"] = choice.rejected
    return picked | ({"insured": choice.insured} if choice.insured else {})


def _needs(ctx: Context, tx: Tx, order: Order, warehouse: str, params: dict[str, Any],
           now: datetime) -> ParcelNeeds:
    rows = tx.store.sql.all(
        "SELECT h.line_no, h.quantity, COALESCE(s.weight_g, 0) FROM stock_holds h LEFT JOIN "
        "sku_specs s ON s.sku = h.sku WHERE h.order_id = :o AND h.warehouse = :wh AND "
        "h.status = 'consumed'", {"o": order.id, "wh": warehouse})
    price = {ln.line_no: ln.unit_price for ln in order.lines}
    address = order.attrs.get("shipping_address", {})
    return ParcelNeeds(
        destination=(address.get("city", ""), address.get("province", "")),
        weight_g=sum(q * w for _, q, w in rows), value=sum(q * price[n] for n, q, _ in rows),
        now=now, promised_by=params.get("promised_by") or now + ctx.timeouts.promised_delivery,
        insure_over=ctx.settings.fulfilment.insure_over)


def parcel_value(tx: Tx, order: Order, warehouse: str) -> int:
    """What the order's goods shipped from `warehouse` are worth (minor units)."""
    price = {ln.line_no: ln.unit_price for ln in order.lines}
    return sum(q * price[n] for n, q in tx.store.sql.all(
        "SELECT line_no, quantity FROM stock_holds WHERE order_id = :o AND warehouse = :wh "
        "AND status = 'consumed'", {"o": order.id, "wh": warehouse}))


def carrier_kpis(tx: Tx, since: datetime) -> dict[str, CarrierKpi]:
    """On-time, loss and complaint (damage claim) rates per carrier since `since`."""
    rows = tx.store.sql.all(
        "SELECT s.carrier, COUNT(*), "
        "SUM(CASE WHEN s.state = 'delivered' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN s.state = 'delivered' AND s.last_scan_at <= s.promised_by "
        "THEN 1 ELSE 0 END), SUM(CASE WHEN s.state = 'lost' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN c.kind = 'damaged' THEN 1 ELSE 0 END) FROM shipments s LEFT JOIN "
        "parcel_claims c ON c.shipment_id = s.id WHERE s.created_at >= :since "
        "AND s.purpose != 'return' "  # a buyer's return has no promise to keep
        "GROUP BY s.carrier", {"since": since})
    kpis = {}
    for carrier, parcels, delivered, on_time, lost, damaged in rows:
        ended = delivered + lost
        kpis[carrier] = CarrierKpi(int(parcels), on_time / delivered if delivered else None,
                                   lost / ended if ended else None,
                                   damaged / delivered if delivered else None)
    return kpis


def refresh_kpis(ctx: Context) -> dict[str, CarrierKpi]:
    """The KPI job: recompute every carrier's KPIs over the policy window and store them."""
    now = ctx.clock.now()
    with ctx.tx() as tx:
        kpis = carrier_kpis(tx, now - timedelta(days=ctx.settings.fulfilment.kpi_days))
        tx.store.sql.run("DELETE FROM carrier_kpis")
        tx.store.sql.many("INSERT INTO carrier_kpis (carrier, parcels, on_time, loss_rate, "
                          "complaint_rate, computed_at) VALUES (:c, :n, :ot, :loss, :comp, :at)",
                          [{"c": c, "n": k.parcels, "ot": k.on_time, "loss": k.loss_rate,
                            "comp": k.complaint_rate, "at": now} for c, k in kpis.items()])
        return kpis


def stored_kpis(tx: Tx) -> dict[str, CarrierKpi]:
    """KPIs as of the last KPI job run (none before the first run)."""
    return {r[0]: CarrierKpi(*r[1:]) for r in tx.store.sql.all(
        "SELECT carrier, parcels, on_time, loss_rate, complaint_rate FROM carrier_kpis")}


def set_weight(ctx: Context, sku: str, weight_g: int) -> None:
    with ctx.tx() as tx:
        tx.store.sql.run("DELETE FROM sku_specs WHERE sku = :sku", {"sku": sku})
        tx.store.sql.run("INSERT INTO sku_specs (sku, weight_g) VALUES (:sku, :w)",
                         {"sku": sku, "w": weight_g})
