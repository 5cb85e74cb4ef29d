"""Placement sends stock from the warehouse nearest the buyer, says why, and adjusts the
promise when a neighbour ships (issue 12: a Hangzhou buyer served from 1,700 km away)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from integrations.config import Settings
from integrations.fulfil_config import FulfilmentPolicy
from orderpilot import ManualClock, OrderPilot
from statemachine.risk_port import approve_everything

REGIONS = {"WH-HANGZHOU": "330100", "WH-SHANGHAI": "310100", "WH-SHENZHEN": "440300"}
HANGZHOU_BUYER = {"line": "浙江省杭州市西湖区文三路18号3单元"}
SHANGHAI_BUYER = {"line": "上海市浦东新区张江路88弄5号"}


@pytest.fixture
def shop(any_url: str, clock: ManualClock) -> Iterator[OrderPilot]:
    settings = Settings(database_url=any_url, fulfilment=FulfilmentPolicy(
        warehouse_regions=REGIONS, distances={"WH-SHANGHAI": {"WH-HANGZHOU": 180}}))
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything, settings=settings)
    yield pilot
    pilot.close()


def place(shop: OrderPilot, address: dict, quantity: int = 2):
    return shop.orders.place(buyer_id="b-1", shipping_address=address, phone="13800138000",
                             lines=[{"sku": "SKU-1", "quantity": quantity, "unit_price": 999}])


def creation(shop: OrderPilot, order_id: str) -> dict:
    return shop.orders.history(order_id)[0].payload


def test_a_hangzhou_buyer_gets_hangzhou_stock_though_shenzhen_has_more(shop):
    # Given Shenzhen holds 500 units and Hangzhou 5
    shop.inventory.receive(sku="SKU-1", warehouse="WH-SHENZHEN", quantity=500)
    shop.inventory.receive(sku="SKU-1", warehouse="WH-HANGZHOU", quantity=5)
    # When a buyer in Hangzhou orders two
    order = place(shop, HANGZHOU_BUYER)
    # Then Hangzhou holds them, and the history says why
    assert creation(shop, order.id)["allocation"] == [["SKU-1", "WH-HANGZHOU", 2]]
    assert creation(shop, order.id)["allocation_reasons"] == ["whole order from WH-HANGZHOU (0 km)"]


def test_shanghai_out_of_stock_hangzhou_ships_and_the_promise_says_so(shop, clock):
    # Given Shanghai is out and Hangzhou (180 km by road) and Shenzhen have stock
    shop.inventory.receive(sku="SKU-1", warehouse="WH-SHANGHAI", quantity=1)
    shop.inventory.receive(sku="SKU-1", warehouse="WH-HANGZHOU", quantity=5)
    shop.inventory.receive(sku="SKU-1", warehouse="WH-SHENZHEN", quantity=500)
    # When a Shanghai buyer orders two
    order = place(shop, SHANGHAI_BUYER)
    # Then the neighbour ships the whole order, with the reasons in the history
    payload = creation(shop, order.id)
    assert payload["allocation"] == [["SKU-1", "WH-HANGZHOU", 2]]
    assert payload["allocation_reasons"] == [
        "nearest warehouse WH-SHANGHAI (0 km) is short of SKU-1: neighbour transfer",
        "whole order from WH-HANGZHOU (180 km)"]


def test_a_far_neighbour_adds_days_to_the_promised_delivery(shop, clock):
    # Given only Shenzhen (about 1,200 km from Shanghai) has stock
    shop.inventory.receive(sku="SKU-1", warehouse="WH-SHENZHEN", quantity=10)
    order = place(shop, SHANGHAI_BUYER)
    assert creation(shop, order.id)["allocation_reasons"][-1].startswith("promise +1 day(s)")
    # When it is paid and shipped
    shop.orders.fire(order.id, "pay", amount=order.total, payment_ref="p-1")
    for trigger in ("start_picking", "pack", "ship"):
        shop.orders.fire(order.id, trigger)
    # Then the parcel's promise is the usual 5 days plus the extra day
    parcel = shop.shipments.of_order(order.id)[0]
    assert parcel.promised_by == clock.now() + timedelta(days=6)
