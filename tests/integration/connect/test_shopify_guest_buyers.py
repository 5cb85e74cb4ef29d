"""A Shopify guest checkout (no customer id) is its email's buyer, keyed by the install
(service/buyer_ids, as imports are since 05371d6), not `shopify-guest-<plain sha256(email)>` — a
hash a list of known emails undoes. Guests derived before keep their ids."""

from __future__ import annotations

import hashlib
import hmac
import logging

from sqlalchemy import text

from tests.integration.connect.providers import shopify_order
from tests.integration.connect.shopify_http import send


def guest_order(order_id: int, email: str) -> dict:
    """Shopify's order of a guest: an email, a checkout phone, no customer."""
    return {**shopify_order(order_id, email=email, phone="+86 139 1234 5678"), "customer": None}


def plain_guest_id(email: str) -> str:
    """The id shopify.py derived before: an unsalted sha256 of the email."""
    return "shopify-guest-" + hashlib.sha256(email.lower().encode()).hexdigest()[:16]


def install_key(pilot) -> bytes:
    with pilot.context.engine.connect() as conn:
        return bytes.fromhex(conn.execute(text(
            "SELECT value FROM install_secrets WHERE name = 'buyer_ids'")).scalar_one())


def test_a_known_guest_keeps_its_id_and_a_new_guest_is_keyed_by_the_install(storefront,
                                                                            caplog):
    # Given a guest whose buyer was derived before the key (an order under the plain id)
    pilot, http = storefront
    caplog.set_level(logging.DEBUG)
    known = plain_guest_id("wangfang@example.cn")
    pilot.orders.place(buyer_id=known, lines=[{"sku": "SKU-1", "quantity": 1,
                                              "unit_price": 3990}],
                       shipping_address={"recipient": "王芳", "phone": "+86 139 1234 5678",
                                         "province": "浙江省", "city": "杭州市",
                                         "street": "文三路 18 号"})
    # When the same guest checks out again (the email in another case), and a new guest does
    again = send(http, "orders/create", guest_order(5_900_000_001, "WangFang@Example.cn"),
                 "wh-guest-1")
    new = send(http, "orders/create", guest_order(5_900_000_002, "LiNa@example.cn"),
               "wh-guest-2")
    assert again.status_code == 200, again.text
    assert new.status_code == 200, new.text
    # Then the known guest is still its buyer (history, credit, lists apply), and the new one
    # is HMAC-SHA256 of its email under the install's key, not the plain hash
    assert pilot.orders.get(again.json()["order"]["id"]).buyer_id == known
    new_buyer = pilot.orders.get(new.json()["order"]["id"]).buyer_id
    key = install_key(pilot)
    assert new_buyer != plain_guest_id("lina@example.cn")
    assert new_buyer == "shopify-guest-" + hmac.new(key, b"email:lina@example.cn",
                                                     "sha256").hexdigest()[:16]
    # and neither email (in any case) nor the key is in a log line
    logged = caplog.text.casefold()
    assert caplog.records  # the deliveries were logged: the check below looked at them
    assert "wangfang@example.cn" not in logged and "lina@example.cn" not in logged
    assert key.hex() not in logged
