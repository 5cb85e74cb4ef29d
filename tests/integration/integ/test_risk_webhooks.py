"""Risk over the webhook API: list entries, buyer sign-up times, chargebacks lower credit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from orderpilot import OrderPilot
from tests.factories import stock
from tests.integration.integ.events import order_placed, payment
from tests.integration.integ.server import Client, running_server


@pytest.fixture
def ruled(any_url: str) -> Iterator[tuple[OrderPilot, Client]]:
    """A shop deciding with the default rule set, served over real HTTP."""
    shop = OrderPilot(any_url)
    stock(shop, quantity=100)
    with running_server(shop) as base_url:
        client = Client(base_url)
        yield shop, client
        client.http.close()
    shop.close()


def test_list_entries_are_added_listed_and_removed_over_http(ruled):
    shop, client = ruled
    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    added = client.post("/v1/ops/lists", {
        "event_id": "l-1", "list": "block", "kind": "phone", "value": "+86 170 1234 5678",
        "reason": "order farming ring", "author": "mei", "expires_at": expires})
    assert added.status_code == 201, added.text
    entry = added.json()["entry"]
    assert (entry["value"], entry["created_by"], entry["list_name"]) == (
        "+8617012345678", "mei", "block")
    again = client.post("/v1/ops/lists", {
        "event_id": "l-1", "list": "block", "kind": "phone", "value": "+86 170 1234 5678",
        "reason": "order farming ring", "author": "mei", "expires_at": expires})
    assert again.headers["Idempotent-Replay"] == "true"
    listed = client.get("/v1/ops/lists?list=block").json()
    assert [e["id"] for e in listed] == [entry["id"]]
    removed = client.post(f"/v1/ops/lists/{entry['id']}/removal",
                          {"event_id": "l-rm-1", "author": "lee"})
    assert removed.status_code == 200 and removed.json()["entry"]["removed_by"] == "lee"
    assert client.get("/v1/ops/lists").json() == []


def test_a_bad_list_entry_is_refused_naming_the_field(ruled):
    _, client = ruled
    bad = client.post("/v1/ops/lists", {
        "event_id": "l-2", "list": "block", "kind": "phone", "value": "12345",
        "reason": "x", "author": "mei"})
    assert bad.status_code == 422 and "value" in bad.json()["problems"]


def test_a_sign_up_time_given_by_webhook_makes_new_account_bulk_fire(ruled):
    shop, client = ruled
    just_now = datetime.now(UTC) - timedelta(hours=2)
    signed = client.post("/v1/shop/buyers", {"event_id": "su-1", "buyer_id": "b-new",
                                             "signed_up_at": just_now.isoformat()})
    assert signed.status_code == 200, signed.text
    placed = client.post("/v1/shop/orders", order_placed("o-bulk", buyer="b-new", quantity=20))
    order = placed.json()["order"]
    assert order["state"] == "under_review"
    assert "new_account_bulk" in [r["rule"] for r in order["risk"]["reasons"]]


def test_a_chargeback_by_webhook_lowers_the_buyers_credit(ruled):
    shop, client = ruled
    order = client.post("/v1/shop/orders", order_placed("o-cb", quantity=1)).json()["order"]
    assert client.post("/v1/payments/events", payment(order)).status_code == 200
    charged = client.post("/v1/payments/events", payment(order, event_id="pay-cb",
                                                          type="chargeback"))
    assert charged.status_code == 200, charged.text
    assert shop.risk.credit("b-1") == 70
    assert [c.kind for c in shop.risk.credit_history("b-1")] == ["chargeback"]


@pytest.mark.parametrize(("listed", "ip"), [("::ffff:203.0.113.9", "203.0.113.9"),
                                            ("203.0.113.9", "::ffff:203.0.113.9")])
def test_a_blocked_ip_is_blocked_in_its_ipv4_mapped_form_too(ruled, listed, ip):
    _, client = ruled
    # Given an IP on the block list, written one way
    added = client.post("/v1/ops/lists", {"event_id": "list-ip", "list": "block", "kind": "ip",
                                          "value": listed, "reason": "刷单", "author": "mei"})
    assert added.status_code == 201, added.text
    # When a buyer orders from it, reported the other way (a dual-stack front end's form)
    response = client.post("/v1/shop/orders", order_placed("shop-ip", buyer="b-ip", ip=ip))
    # Then the order is refused as blocked (both were approved on the code before)
    assert response.status_code == 201, response.text
    order = response.json()["order"]
    assert order["state"] == "rejected"
    assert "on the blacklist: ip" in [r["text"] for r in order["risk"]["reasons"]]
