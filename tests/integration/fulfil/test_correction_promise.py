"""The stock and the promised delivery follow a corrected address: while no one has started
on the order, its stock is planned again from the new address and moved to the warehouse
nearest it; once it is in a wave or picking, the stock stays and placement's extra days for a
far warehouse are measured again from the new address."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from integrations.config import Settings
from integrations.fulfil_config import FulfilmentPolicy
from orderpilot import ManualClock, OrderPilot
from statemachine.risk_port import approve_everything
from tests.factories import placed_order
from tests.integration.fulfil.test_regional_allocation import REGIONS, SHANGHAI_BUYER, place
from tests.integration.risk.test_address_corrections import CORRECTED, NANSHAN

SHENZHEN_BUYER = {"province": "广东省", "city": "深圳市", "district": "南山区",
                  "street": "科技南十二路2号"}


@pytest.fixture
def shop(any_url: str, clock: ManualClock) -> Iterator[OrderPilot]:
    """Warehouses in Hangzhou, Shanghai and Shenzhen, by region."""
    settings = Settings(database_url=any_url,
                        fulfilment=FulfilmentPolicy(warehouse_regions=REGIONS))
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything, settings=settings)
    yield pilot
    pilot.close()


def shipped_promise(shop, order) -> timedelta:
    shop.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"p-{order.id}")
    for trigger in ("start_picking", "pack", "ship"):
        shop.orders.fire(order.id, trigger)
    return shop.shipments.of_order(order.id)[0].promised_by


def test_a_buyer_corrected_far_from_the_stock_is_promised_the_extra_day(shop, clock):
    # Given only Shenzhen has stock, and a Shenzhen buyer's order (the usual 5 days)
    shop.inventory.receive(sku="SKU-1", warehouse="WH-SHENZHEN", quantity=10)
    order = place(shop, SHENZHEN_BUYER)
    # When ops correct it to Shanghai, about 1,200 km from Shenzhen (Shanghai has a warehouse)
    shop.orders.correct_address(order.id, address=SHANGHAI_BUYER, by="ops:mei")
    # Then the history says the promise grows, as placement would have said it
    step = shop.orders.history(order.id)[-1]
    assert step.payload["promise_extra_days"] == 1
    assert step.payload["allocation_reasons"][-1].startswith(
        "promise +1 day(s) for ") and "beyond WH-SHANGHAI" in step.payload[
        "allocation_reasons"][-1]
    # and the parcel is promised in 6 days (before: 5, as for Shenzhen)
    assert shipped_promise(shop, order) == clock.now() + timedelta(days=6)


def test_a_buyer_corrected_next_to_the_stock_loses_the_extra_day(shop, clock):
    # Given only Shenzhen has stock, and a Shanghai buyer's order (+1 day)
    shop.inventory.receive(sku="SKU-1", warehouse="WH-SHENZHEN", quantity=10)
    order = place(shop, SHANGHAI_BUYER)
    # When ops correct it to Shenzhen: the usual 5 days (before: 6)
    shop.orders.correct_address(order.id, address=SHENZHEN_BUYER, by="ops:mei")
    assert shop.orders.history(order.id)[-1].payload["promise_extra_days"] == 0
    assert shipped_promise(shop, order) == clock.now() + timedelta(days=5)



def both_stocked(shop) -> None:
    for warehouse in ("WH-SHENZHEN", "WH-SHANGHAI"):
        shop.inventory.receive(sku="SKU-1", warehouse=warehouse, quantity=10)


def levels(shop) -> dict[str, tuple[int, int]]:
    return {lv.warehouse: (lv.on_hand, lv.reserved) for lv in shop.inventory.levels()}


def pay(shop, order) -> None:
    shop.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"p-{order.id}")


def test_an_unpaid_order_corrected_to_shanghai_is_held_and_ships_there(shop, clock):
    # Given stock in Shenzhen and Shanghai, and a Shenzhen buyer's unpaid order held in Shenzhen
    both_stocked(shop)
    order = place(shop, SHENZHEN_BUYER)
    assert levels(shop) == {"WH-SHENZHEN": (10, 2), "WH-SHANGHAI": (10, 0)}
    # When ops correct it to Shanghai
    shop.orders.correct_address(order.id, address=SHANGHAI_BUYER, by="ops:mei")
    # Then its hold moved to Shanghai (before: it stayed in Shenzhen, 1,200 km away), and the
    # history says so as placement says it
    assert levels(shop) == {"WH-SHENZHEN": (10, 0), "WH-SHANGHAI": (10, 2)}
    step = shop.orders.history(order.id)[-1]
    assert step.payload["allocation"] == [["SKU-1", "WH-SHANGHAI", 2]]
    assert step.payload["allocation_reasons"] == ["whole order from WH-SHANGHAI (0 km)"]
    assert shop.inventory.reconcile() == []
    # And paid and shipped, it leaves Shanghai in the usual 5 days
    assert shipped_promise(shop, order) == clock.now() + timedelta(days=5)
    assert [p.warehouse for p in shop.shipments.of_order(order.id)] == ["WH-SHANGHAI"]
    assert levels(shop) == {"WH-SHENZHEN": (10, 0), "WH-SHANGHAI": (8, 0)}


def test_a_paid_order_corrected_before_its_wave_is_sold_from_shanghai(shop, clock):
    # Given a Shenzhen buyer's paid order, its units sold in Shenzhen, in no wave yet
    both_stocked(shop)
    order = place(shop, SHENZHEN_BUYER)
    pay(shop, order)
    assert levels(shop) == {"WH-SHENZHEN": (8, 0), "WH-SHANGHAI": (10, 0)}
    # When ops correct it to Shanghai
    shop.orders.correct_address(order.id, address=SHANGHAI_BUYER, by="ops:mei")
    # Then Shenzhen has its units back and Shanghai sold them
    assert levels(shop) == {"WH-SHENZHEN": (10, 0), "WH-SHANGHAI": (8, 0)}
    # And Shanghai's wave picks it; nothing waits in Shenzhen
    assert shop.waves.create(warehouse="WH-SHENZHEN") is None
    wave = shop.waves.create(warehouse="WH-SHANGHAI")
    assert shop.waves.release(wave["id"]) == {order.id: "picking"}
    for trigger in ("pack", "ship"):
        shop.orders.fire(order.id, trigger)
    [parcel] = shop.shipments.of_order(order.id)
    assert (parcel.warehouse, parcel.promised_by) == ("WH-SHANGHAI",
                                                      clock.now() + timedelta(days=5))
    assert shop.inventory.reconcile() == []


@pytest.mark.parametrize("started", ["in a wave", "picking"])
def test_an_order_someone_started_on_keeps_its_stock_and_the_promise_follows(shop, clock,
                                                                           started):
    # Given a Shenzhen buyer's paid order put into Shenzhen's wave (and maybe released)
    both_stocked(shop)
    order = place(shop, SHENZHEN_BUYER)
    pay(shop, order)
    wave = shop.waves.create(warehouse="WH-SHENZHEN")
    if started == "picking":
        shop.waves.release(wave["id"])
    # When ops correct it to Shanghai
    shop.orders.correct_address(order.id, address=SHANGHAI_BUYER, by="ops:mei")
    # Then its units stay sold in Shenzhen (a picker may hold them), no plan in the history
    assert levels(shop) == {"WH-SHENZHEN": (8, 0), "WH-SHANGHAI": (10, 0)}
    step = shop.orders.history(order.id)[-1]
    assert "allocation" not in step.payload and step.payload["promise_extra_days"] == 1
    # And the parcel leaves Shenzhen promised the extra day
    if started == "in a wave":
        shop.waves.release(wave["id"])
    for trigger in ("pack", "ship"):
        shop.orders.fire(order.id, trigger)
    [parcel] = shop.shipments.of_order(order.id)
    assert (parcel.warehouse, parcel.promised_by) == ("WH-SHENZHEN",
                                                      clock.now() + timedelta(days=6))


def test_a_hold_moved_away_is_not_taken_again_when_the_order_is_revived(any_url, clock):
    # Given a shop reviving orders paid late, and a Shenzhen order moved to Shanghai's stock
    settings = Settings(database_url=any_url, late_payments="revive",
                        fulfilment=FulfilmentPolicy(warehouse_regions=REGIONS))
    shop = OrderPilot(any_url, clock=clock, risk_check=approve_everything, settings=settings)
    try:
        both_stocked(shop)
        order = place(shop, SHENZHEN_BUYER)
        shop.orders.correct_address(order.id, address=SHANGHAI_BUYER, by="ops:mei")
        # When its hold lapses unpaid and the payment comes after
        clock.advance(hours=1)
        shop.sweep()
        assert shop.orders.get(order.id).state == "expired"
        shop.orders.pay(order.id, amount=order.total, payment_ref=f"p-{order.id}")
        # Then the revived order takes its Shanghai units again, not Shenzhen's as well
        assert shop.orders.get(order.id).state == "paid"
        assert levels(shop) == {"WH-SHENZHEN": (10, 0), "WH-SHANGHAI": (8, 0)}
        assert shop.inventory.reconcile() == []
    finally:
        shop.close()


def test_a_shop_without_warehouse_regions_moves_no_stock_on_a_correction(any_pilot):
    # Given a shop that configured no warehouse regions (distances unknown), an order held in
    # WH-1, and more stock arriving in WH-2 since (placement would now pick WH-2: the most)
    any_pilot.inventory.receive(sku="SKU-1", warehouse="WH-1", quantity=10)
    any_pilot.inventory.receive(sku="SKU-1", warehouse="WH-2", quantity=5)
    order = placed_order(any_pilot, shipping_address=NANSHAN)
    any_pilot.inventory.receive(sku="SKU-1", warehouse="WH-2", quantity=20)
    # When its address is corrected to 杭州
    any_pilot.orders.correct_address(order.id, address=CORRECTED, by="ops:mei")
    # Then its stock stays in WH-1: no nearer warehouse is known, so nothing moves
    assert levels(any_pilot) == {"WH-1": (10, 2), "WH-2": (25, 0)}
    assert "allocation" not in any_pilot.orders.history(order.id)[-1].payload
