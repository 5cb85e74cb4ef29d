"""A Shopify order whose province contradicts its city cannot be refused (the buyer has
checked out on Shopify): it is placed and held for review, saying why."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from integrations.config import Settings
from integrations.connect_config import ShopifyPolicy
from orderpilot import ManualClock, OrderPilot
from tests.factories import stock
from tests.fakes.http import patient_client
from tests.integration.connect.providers import SHOP, SHOPIFY_SECRET, shopify_order
from tests.integration.connect.shopify_http import send
from tests.integration.integ.server import running_server


@pytest.fixture
def reviewed_storefront(
    any_url: str, clock: ManualClock
) -> Iterator[tuple[OrderPilot, httpx.Client]]:
    """A shop taking Shopify webhooks with the packaged risk rules (not approve_everything)."""
    pilot = OrderPilot(
        any_url,
        clock=clock,
        settings=Settings(shopify=ShopifyPolicy(webhook_secret=SHOPIFY_SECRET, shop_domain=SHOP)),
    )
    stock(pilot, sku="SKU-1", quantity=20)
    with running_server(pilot) as base_url, patient_client(base_url) as http:
        yield pilot, http
    pilot.close()


def _to(province: str) -> dict:
    """Shopify's order with the district written in address1 (Shopify has no district
    field), the province as the buyer picked it."""
    order = shopify_order(financial_status="paid")
    address = {**order["shipping_address"], "province": province, "address1": "西湖区文三路 18 号"}
    return {**order, "shipping_address": address, "billing_address": address}


def test_a_shopify_order_whose_province_contradicts_its_city_is_held_for_review(
    reviewed_storefront,
):
    pilot, http = reviewed_storefront
    # When Shopify sends a paid order to 广东省 杭州市 西湖区文三路 18 号
    created = send(http, "orders/create", _to("广东省"), "wh-1")
    # Then it is placed (Shopify has taken the money: a refusal would lose the order) and held
    # for a person, saying why (before: approved, its label to print 广东省)
    assert created.status_code == 200, created.text
    order = pilot.orders.get(created.json()["order"]["id"])
    assert order.state == "under_review"
    assert [(r["rule"], r["text"]) for r in order.risk["reasons"]] == [
        (
            "address_contradiction",
            "shipping address contradicts itself: province contradicts "
            "city: 广东省 does not contain 杭州市 (浙江省)",
        )
    ]
    assert order.shipping_address["province"] == "广东省"


def test_a_shopify_order_whose_fields_agree_is_not_held(reviewed_storefront):
    pilot, http = reviewed_storefront
    created = send(http, "orders/create", _to("浙江省"), "wh-1")
    assert created.status_code == 200, created.text
    assert pilot.orders.get(created.json()["order"]["id"]).state == "paid"


def test_a_shopify_order_whose_address1_names_another_city_is_held_for_review(
    reviewed_storefront,
):
    # Given Shopify's order to 浙江省 杭州市 whose address1 names 深圳市南山区 (pasted from the
    # buyer's old address)
    pilot, http = reviewed_storefront
    order = _to("浙江省")
    address = {**order["shipping_address"], "address1": "深圳市南山区科技南十二路2号"}
    # When it arrives, paid
    created = send(http, "orders/create",
                   {**order, "shipping_address": address, "billing_address": address}, "wh-1")
    # Then it is placed and held, saying why (before: paid, nothing said)
    assert created.status_code == 200, created.text
    placed = pilot.orders.get(created.json()["order"]["id"])
    assert placed.state == "under_review"
    assert ("shipping address contradicts itself: street contradicts province: 浙江省 does not "
            "contain 深圳市南山区 (广东省深圳市)") in [r["text"] for r in placed.risk["reasons"]]
