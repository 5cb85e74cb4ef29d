"""Fulfilment with the simulated carrier adapters: selection buys the waybill from the chosen
carrier; a parcel the carrier loses (seen by polling) is compensated and claimed."""

from __future__ import annotations

from integrations.carriers.simulated import Knobs, SimulatedCarrier
from integrations.fulfil_config import CarrierSpec
from integrations.ingest.tracking import poll_parcel
from integrations.service.ship_selected import ship_selected
from statemachine.ports import CarrierProfile
from tests.factories import paid_order, stock

from .conftest import make_pilot

CATALOGUE = {"sim-express": CarrierSpec(transit_days=1, insured_up_to=1_000_000, cost=2000),
             "sim-budget": CarrierSpec(transit_days=3, cost=600)}


def packed(shop, **kw):
    order = shop.orders.fire(paid_order(shop, **kw).id, "start_picking", actor="lead")
    if shop.fulfilment.double_check_needed(order.id):
        shop.orders.fire(order.id, "double_check", actor="checker")
    return shop.orders.fire(order.id, "pack", actor="packer")


def test_selection_buys_the_waybill_from_the_chosen_carrier_and_a_lost_parcel_is_claimed(
        any_url, clock):
    # Given two simulated carriers; the budget one loses every parcel
    shop = make_pilot(any_url, clock, carriers=CATALOGUE, insure_over=50_000)
    adapters = {
        "sim-express": SimulatedCarrier(CarrierProfile("sim-express", 1), clock),
        "sim-budget": SimulatedCarrier(CarrierProfile("sim-budget", 3), clock,
                                       Knobs(seed=1, loss_rate=1.0, lost_after_hours=48))}
    stock(shop, "SKU-1", "WH-A", 10)
    cheap = packed(shop, buyer="b-1", quantity=1, unit_price=1999)
    # When it ships, the budget carrier is chosen and its waybill is the parcel's
    [waybill] = ship_selected(shop.context, int(cheap.id[2:]), adapters, "dispatch")
    [parcel] = shop.shipments.of_order(cheap.id)
    assert (waybill.carrier, parcel.carrier, parcel.tracking_no) == (
        "sim-budget", "sim-budget", waybill.tracking_no)
    create = [h for h in shop.orders.history(cheap.id) if h.trigger == "create"][0]
    assert "best of 2 on KPIs, then cost (600)" in create.payload["carrier_reasons"]
    # When polling shows the carrier lost it, the claim compensates the buyer first
    clock.advance(days=10)
    poll_parcel(shop.context, adapters["sim-budget"], waybill.tracking_no)
    assert shop.shipments.get(parcel.id).state == "lost"
    claim = shop.claims.report_lost(parcel.id, reason="carrier reported loss")
    assert (claim["compensated"], claim["state"]) == (1999, "filed")
    assert shop.orders.get(cheap.id).state == "completed"
    # And once the KPI job has run, the carrier that lost it loses the next cheap parcel
    shop.fulfilment.refresh_carrier_kpis()
    again = packed(shop, buyer="b-3", quantity=1, unit_price=1999)
    assert ship_selected(shop.context, int(again.id[2:]), adapters, "d")[0].carrier == \
        "sim-express"
    # And a valuable parcel goes with the carrier that insures it
    dear = packed(shop, buyer="b-2", quantity=1, unit_price=75_000)
    [dear_bill] = ship_selected(shop.context, int(dear.id[2:]), adapters, "dispatch")
    assert dear_bill.carrier == "sim-express"
    create = [h for h in shop.orders.history(dear.id) if h.trigger == "create"][0]
    assert create.payload["insured"] == 75_000
    assert create.payload["carriers_rejected"] == {
        "sim-budget": "insures up to 0, the parcel is worth 75000"}
    shop.close()
