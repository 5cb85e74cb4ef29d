"""The promised delivery follows a corrected address: placement's extra days for a far
warehouse are measured again from the new address (the stock stays where it is held)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from integrations.config import Settings
from integrations.fulfil_config import FulfilmentPolicy
from orderpilot import ManualClock, OrderPilot
from statemachine.risk_port import approve_everything
from tests.integration.fulfil.test_regional_allocation import REGIONS, SHANGHAI_BUYER, place

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


def test_picking_does_not_move_a_corrected_orders_stock_to_the_warehouse_nearest_it(shop,
                                                                                   clock):
    # Given stock in Shenzhen and in Shanghai, and a Shenzhen buyer's order held in Shenzhen
    shop.inventory.receive(sku="SKU-1", warehouse="WH-SHENZHEN", quantity=10)
    shop.inventory.receive(sku="SKU-1", warehouse="WH-SHANGHAI", quantity=10)
    order = place(shop, SHENZHEN_BUYER)
    # When ops correct it to Shanghai, it is paid, and picking starts (a wave released)
    shop.orders.correct_address(order.id, address=SHANGHAI_BUYER, by="ops:mei")
    shop.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"p-{order.id}")
    assert shop.waves.create(warehouse="WH-SHANGHAI") is None  # nothing waits in Shanghai
    wave = shop.waves.create(warehouse="WH-SHENZHEN")
    assert shop.waves.release(wave["id"]) == {order.id: "picking"}
    # Then picking re-plans nothing: the units stay sold in Shenzhen, Shanghai's untouched,
    # no reallocate step (the correction's docs say so: no step moves them)
    levels = {lv.warehouse: (lv.on_hand, lv.reserved) for lv in shop.inventory.levels()}
    assert levels == {"WH-SHENZHEN": (8, 0), "WH-SHANGHAI": (10, 0)}
    assert "reallocate" not in [step.trigger for step in shop.orders.history(order.id)]
    # and the parcel leaves Shenzhen, promised the extra day the correction measured
    for trigger in ("pack", "ship"):
        shop.orders.fire(order.id, trigger)
    [parcel] = shop.shipments.of_order(order.id)
    assert parcel.warehouse == "WH-SHENZHEN"
    assert parcel.promised_by == clock.now() + timedelta(days=6)
