"""A Shopify order's two numbers over a real HTTP server: the customer's own phone is the
buyer's, the shipping address's is the recipient's; the order keeps both and the risk rules
count both (before, the address's number was taken as the buyer's and the customer's dropped)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text

from integrations.config import Settings
from integrations.connect_config import ShopifyPolicy
from orderpilot import ManualClock, OrderPilot
from tests.factories import stock
from tests.fakes.http import patient_client
from tests.integration.connect.providers import SHOP, SHOPIFY_SECRET, shopify_order
from tests.integration.connect.shopify_http import send
from tests.integration.integ.server import running_server

BUYER, BUYER_E164 = "+86 139 1234 5678", "+8613912345678"


@pytest.fixture
def reviewed_storefront(any_url: str, clock: ManualClock
                        ) -> Iterator[tuple[OrderPilot, httpx.Client]]:
    """A shop taking Shopify webhooks with the packaged risk rules (not approve_everything)."""
    pilot = OrderPilot(any_url, clock=clock, settings=Settings(
        shopify=ShopifyPolicy(webhook_secret=SHOPIFY_SECRET, shop_domain=SHOP)))
    stock(pilot, sku="SKU-1", quantity=20)
    with running_server(pilot) as base_url, patient_client(base_url) as http:
        yield pilot, http
    pilot.close()


def account_order(n: int, buyer_phone: str, recipient_phone: str) -> dict:
    """The n-th Shopify customer's order: their own id, email, IP and street in 杭州市; the
    customer's phone and the shipping address's phone as given."""
    order = shopify_order(7_000_000_000 + n, browser_ip=f"203.0.113.{n + 10}",
                          email=f"buyer{n}@example.cn", client_details=None)
    address = {**order["shipping_address"], "address1": f"西湖区文三路 {n + 1} 号",
               "phone": recipient_phone, "name": f"张{n}"}
    customer = {**order["customer"], "id": 300_000 + n, "email": f"buyer{n}@example.cn",
                "phone": buyer_phone}
    return {**order, "customer": customer, "shipping_address": address,
            "billing_address": address}


def placement_phones(pilot: OrderPilot, order_id: str) -> tuple[str, str]:
    with pilot.context.engine.connect() as conn:
        return tuple(conn.execute(text(
            "SELECT phone_norm, recipient_phone_norm FROM risk_order_facts "
            "WHERE order_id = :o"), {"o": int(order_id[2:])}).one())


@pytest.mark.parametrize("where", ["customer.phone", "phone"])
def test_a_shopify_order_keeps_the_customers_phone_as_the_buyers_and_the_address_phone(
        reviewed_storefront, where):
    # Given Shopify's order whose customer gives their own number (on the customer, or only
    # on the order: a guest's checkout phone) and ships to another
    pilot, http = reviewed_storefront
    body = account_order(0, BUYER, "+86 138 0013 8000")
    if where == "phone":
        body = {**body, "phone": BUYER, "customer": {**body["customer"], "phone": None}}
    created = send(http, "orders/create", body, "wh-1")
    # Then the buyer's number is the customer's and the recipient's the address's, both kept
    # and both counted for the next orders' phone velocity
    assert created.status_code == 200, created.text
    order_id = created.json()["order"]["id"]
    order = pilot.orders.get(order_id)
    assert order.state == "awaiting_payment"
    assert order.shipping_address["phone"] == "+86 138 0013 8000"
    assert placement_phones(pilot, order_id) == (BUYER_E164, "+8613800138000")


def test_a_fourth_shopify_account_on_one_customer_phone_is_held_for_review(reviewed_storefront):
    # Given three Shopify accounts giving one phone of their own, each shipping to a number of
    # its own (before: their own phone was never read, only the address's)
    pilot, http = reviewed_storefront
    for n in range(3):
        placed = send(http, "orders/create",
                      account_order(n, BUYER, f"+86 137 0000 000{n}"), f"wh-{n}")
        assert placed.json()["order"]["state"] == "awaiting_payment", placed.text
    # When a fourth account gives that phone as its own, shipping to yet another number
    fourth = send(http, "orders/create", account_order(3, BUYER, "+86 137 0000 0009"), "wh-4")
    # Then it waits for a person: the buyer's phone was on orders of three other buyers
    order = pilot.orders.get(fourth.json()["order"]["id"])
    assert order.state == "under_review"
    assert [r["text"] for r in order.risk["reasons"] if r["rule"] == "phone_velocity"] == [
        "phone 139****5678 on orders of 3 other buyers in 86400 s"]
