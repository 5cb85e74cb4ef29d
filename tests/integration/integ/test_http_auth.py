"""HMAC authentication of the ingestion endpoints, over a real HTTP server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.integ.events import order_placed
from tests.integration.integ.server import row_counts


def test_a_correctly_signed_order_placement_is_accepted(client, shop):
    # When the shop posts a signed order
    response = client.post("/v1/shop/orders", order_placed())
    # Then it is placed and comes back awaiting payment
    assert response.status_code == 201, response.text
    assert response.json()["order"]["state"] == "awaiting_payment"
    assert shop.orders.get(response.json()["order"]["id"]).state == "awaiting_payment"


@pytest.mark.parametrize("breakage", ["wrong secret", "stale timestamp", "future timestamp",
                                      "tampered body", "no signature", "other source's secret"])
def test_a_badly_signed_request_is_refused_with_401_and_writes_nothing(client, shop, breakage):
    # Given the store as it is
    before = row_counts(shop)
    body = json.dumps(order_placed()).encode()
    now = datetime.now(UTC)
    kwargs = {
        "wrong secret": {"secret": "not-the-secret"},
        "stale timestamp": {"at": now - timedelta(minutes=6)},
        "future timestamp": {"at": now + timedelta(minutes=6)},
        "tampered body": {"sent_body": body.replace(b'"quantity": 2', b'"quantity": 9')},
        "no signature": {"signed": False},
        "other source's secret": {"secret": client.secrets["payments"]},
    }[breakage]
    # When the request is sent with that defect
    response = client.post("/v1/shop/orders", body=body, **kwargs)
    # Then it is refused and nothing was written
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "unauthorized"
    assert row_counts(shop) == before


def test_a_timestamp_inside_the_window_is_accepted(client):
    response = client.post("/v1/shop/orders", order_placed(),
                           at=datetime.now(UTC) - timedelta(minutes=4))
    assert response.status_code == 201, response.text


def test_an_unsigned_malformed_body_gets_401_not_422(client):
    response = client.post("/v1/payments/events", body=b"{not json", signed=False)
    assert response.status_code == 401


def test_a_source_without_a_configured_secret_is_refused(client):
    response = client.send("POST", "/v1/nosuch/things", {"a": 1}, secret="anything")
    assert response.status_code == 401
    assert "no shared secret" in response.json()["message"]


def test_reads_need_the_ops_signature_but_health_does_not(client):
    assert client.get("/health", signed=False).status_code == 200
    assert client.get("/v1/ops/orders/o-1", signed=False).status_code == 401
