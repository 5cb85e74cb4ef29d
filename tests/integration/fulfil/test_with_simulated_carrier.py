"""Fulfilment with the simulated carrier adapters: selection buys the waybill from the chosen
carrier; a parcel the carrier loses (seen by polling) is compensated and claimed."""

from __future__ import annotations

import pytest

from integrations.carriers.simulated import Knobs, SimulatedCarrier
from integrations.fulfil_config import CarrierSpec
from integrations.ingest.money_events import apply_money_event
from integrations.ingest.tracking import poll_parcel
from statemachine.errors import GuardRejected, InvalidInput, InvalidTransition
from statemachine.ports import CarrierProfile, MoneyEvent
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
    assert shop.orders.ship_with_labels(cheap.id, adapters, actor="dispatch").state == "shipped"
    [parcel] = shop.shipments.of_order(cheap.id)
    assert parcel.carrier == "sim-budget"
    create = [h for h in shop.orders.history(cheap.id) if h.trigger == "create"][0]
    assert "best of 2 on KPIs, then cost (600)" in create.payload["carrier_reasons"]
    # When polling shows the carrier lost it, the claim compensates the buyer first
    clock.advance(days=10)
    poll_parcel(shop.context, adapters["sim-budget"], parcel.tracking_no)
    assert shop.shipments.get(parcel.id).state == "lost"
    claim = shop.claims.report_lost(parcel.id, reason="carrier reported loss")
    assert (claim["compensated"], claim["state"]) == (1999, "filed")
    assert shop.orders.get(cheap.id).state == "completed"
    # And once the KPI job has run, the carrier that lost it loses the next cheap parcel
    shop.fulfilment.refresh_carrier_kpis()
    again = packed(shop, buyer="b-3", quantity=1, unit_price=1999)
    shop.orders.ship_with_labels(again.id, adapters, actor="d")
    assert [p.carrier for p in shop.shipments.of_order(again.id)] == ["sim-express"]
    # And a valuable parcel goes with the carrier that insures it
    dear = packed(shop, buyer="b-2", quantity=1, unit_price=75_000)
    shop.orders.ship_with_labels(dear.id, adapters, actor="dispatch")
    assert [p.carrier for p in shop.shipments.of_order(dear.id)] == ["sim-express"]
    create = [h for h in shop.orders.history(dear.id) if h.trigger == "create"][0]
    assert create.payload["insured"] == 75_000
    assert create.payload["carriers_rejected"] == {
        "sim-budget": "insures up to 0, the parcel is worth 75000"}
    shop.close()


class CountingCarrier(SimulatedCarrier):
    """A simulated carrier that counts the labels it sold."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sold = 0

    def create_waybill(self, request):
        self.sold += 1
        return super().create_waybill(request)


def test_no_label_is_bought_for_an_order_that_cannot_ship_or_a_carrier_without_adapter(
        any_url, clock):
    shop = make_pilot(any_url, clock, carriers=CATALOGUE)
    express = CountingCarrier(CarrierProfile("sim-express", 1), clock)
    stock(shop, "SKU-1", "WH-A", 10)
    # Given a paid order not yet packed: it cannot ship, and no label is bought
    unpacked = paid_order(shop, buyer="b-1", quantity=1, unit_price=1999)
    with pytest.raises(InvalidTransition, match="cannot ship from paid"):
        shop.orders.ship_with_labels(unpacked.id, {"sim-express": express}, actor="dispatch")
    # Given a packed order whose selected carrier (the budget one) has no adapter here
    cheap = packed(shop, buyer="b-2", quantity=1, unit_price=1999)
    with pytest.raises(GuardRejected, match="sim-budget was selected but has no adapter"):
        shop.orders.ship_with_labels(cheap.id, {"sim-express": express}, actor="dispatch")
    # Then nothing was bought and nothing moved
    assert express.sold == 0
    assert shop.orders.get(cheap.id).state == "packed" and shop.shipments.of_order(cheap.id) == []
    shop.close()


def test_labels_are_bought_outside_the_write_transaction(sqlite_url, clock):
    # Given a carrier whose label API is slow enough that the shop goes on writing meanwhile
    shop = make_pilot(sqlite_url, clock, carriers=CATALOGUE)
    other = make_pilot(sqlite_url, clock, carriers=CATALOGUE)
    stock(shop, "SKU-1", "WH-A", 10)
    order = packed(shop, buyer="b-1", quantity=1, unit_price=1999)

    class WritingWhileSelling(SimulatedCarrier):
        def create_waybill(self, request):
            # another connection writes while the label is bought: with the write lock held
            # by the shipping call, this waits out the busy timeout and fails
            other.inventory.receive(sku="SKU-1", warehouse="WH-A", quantity=1)
            return super().create_waybill(request)

    adapters = {name: WritingWhileSelling(CarrierProfile(name, 1), clock) for name in CATALOGUE}
    shop.orders.ship_with_labels(order.id, adapters, actor="dispatch")
    # Then both writes landed
    assert shop.orders.get(order.id).state == "shipped"
    assert shop.inventory.level(sku="SKU-1", warehouse="WH-A").on_hand == 10
    other.close()
    shop.close()


def test_no_label_is_bought_for_a_packed_order_whose_money_was_all_refunded(any_url, clock):
    # Given a packed order whose ¥19.99 was all refunded (as staff do in Alipay's portal):
    # held from shipping until a person decides
    shop = make_pilot(any_url, clock, carriers=CATALOGUE)
    express = CountingCarrier(CarrierProfile("sim-express", 1), clock)
    budget = CountingCarrier(CarrierProfile("sim-budget", 3), clock)
    stock(shop, "SKU-1", "WH-A", 10)
    order = packed(shop, buyer="b-1", quantity=1, unit_price=1999)
    apply_money_event(shop.context, MoneyEvent(
        "simulated", "portal-refund-1", "refunded", order.payment_ref, 1999, "CNY",
        clock.now(), order_id=order.id))
    assert shop.orders.get(order.id).refunded == 1999
    # When dispatch ships it with bought labels, twice
    for _ in range(2):
        with pytest.raises(GuardRejected, match="money was all refunded"):
            shop.orders.ship_with_labels(order.id, {"sim-express": express,
                                                    "sim-budget": budget}, actor="dispatch")
    # Then no label was bought (before: one per try, each refused after the carrier sold it)
    assert express.sold + budget.sold == 0
    assert shop.orders.get(order.id).state == "packed" and shop.shipments.of_order(order.id) == []
    shop.close()


def refunded_in_full(shop, clock, order) -> None:
    """Its ¥19.99 all refunded at the provider (as staff do in Alipay's portal)."""
    apply_money_event(shop.context, MoneyEvent(
        "simulated", f"portal-refund-{order.id}", "refunded", order.payment_ref, 1999, "CNY",
        clock.now(), order_id=order.id))
    assert shop.orders.get(order.id).refunded == 1999


def test_a_person_ships_a_refunded_order_with_bought_labels_saying_why(any_url, clock):
    # Given a packed order refunded in full before any label was bought: held from shipping,
    # the refusal telling dispatch to ship it anyway with ship_refunded
    shop = make_pilot(any_url, clock, carriers=CATALOGUE)
    express = CountingCarrier(CarrierProfile("sim-express", 1), clock)
    budget = CountingCarrier(CarrierProfile("sim-budget", 3), clock)
    adapters = {"sim-express": express, "sim-budget": budget}
    stock(shop, "SKU-1", "WH-A", 10)
    order = packed(shop, buyer="b-1", quantity=1, unit_price=1999)
    refunded_in_full(shop, clock, order)
    with pytest.raises(GuardRejected, match="ship it anyway with ship_refunded"):
        shop.orders.ship_with_labels(order.id, adapters, actor="dispatch")
    # When a person decides to ship it as a gift, with labels bought as for any order
    # (before: ship_with_labels took no ship_refunded; only a `ship` without labels could)
    shipped = shop.orders.ship_with_labels(order.id, adapters, actor="ops-wang",
                                           ship_refunded="老客户, 退款后仍赠送")
    # Then one label was bought and the order shipped under its waybill
    assert shipped.state == "shipped" and express.sold + budget.sold == 1
    [parcel] = shop.shipments.of_order(order.id)
    assert parcel.tracking_no.startswith(parcel.carrier.upper() + "-")
    # And the person's why is kept with the ship step, as a plain ship keeps it
    ship = [h for h in shop.orders.history(order.id) if h.trigger == "ship"][0]
    assert (ship.actor, ship.payload["ship_refunded"]) == ("ops-wang", "老客户, 退款后仍赠送")
    shop.close()


@pytest.mark.parametrize("why", ["", "赠" * 501])
def test_a_bad_ship_refunded_is_refused_naming_it_before_any_label_is_bought(any_url, clock,
                                                                            why):
    shop = make_pilot(any_url, clock, carriers=CATALOGUE)
    express = CountingCarrier(CarrierProfile("sim-express", 1), clock)
    budget = CountingCarrier(CarrierProfile("sim-budget", 3), clock)
    stock(shop, "SKU-1", "WH-A", 10)
    order = packed(shop, buyer="b-1", quantity=1, unit_price=1999)
    refunded_in_full(shop, clock, order)
    with pytest.raises(InvalidInput) as refused:
        shop.orders.ship_with_labels(order.id, {"sim-express": express, "sim-budget": budget},
                                     actor="ops-wang", ship_refunded=why)
    assert list(refused.value.problems) == ["ship_refunded"]
    assert express.sold + budget.sold == 0
    assert shop.orders.get(order.id).state == "packed" and shop.shipments.of_order(order.id) == []
    shop.close()


def test_an_order_refunded_in_full_while_its_labels_are_bought_is_not_shipped(any_url, clock):
    # Given a packed order, and a carrier during whose label sale the order's money is all
    # refunded at the provider (staff in Alipay's portal, meanwhile)
    shop = make_pilot(any_url, clock, carriers=CATALOGUE)
    stock(shop, "SKU-1", "WH-A", 10)
    order = packed(shop, buyer="b-1", quantity=1, unit_price=1999)

    class RefundedMeanwhile(CountingCarrier):
        def create_waybill(self, request):
            refunded_in_full(shop, clock, order)
            return super().create_waybill(request)

    adapters = {name: RefundedMeanwhile(CarrierProfile(name, 1), clock) for name in CATALOGUE}
    # When dispatch ships it with bought labels, saying nothing of a refund
    with pytest.raises(GuardRejected, match="ship it anyway with ship_refunded"):
        shop.orders.ship_with_labels(order.id, adapters, actor="dispatch")
    # Then the label bought goes unused: the order is held, packed, with no parcel
    assert sum(a.sold for a in adapters.values()) == 1
    assert shop.orders.get(order.id).state == "packed" and shop.shipments.of_order(order.id) == []
    shop.close()
