"""`POST /v1/ops/orders/{id}/address` over real HTTP: a person corrects an order's address
before it ships, signed with the ops secret, applied once per event id, refused as the Python
API refuses (422 naming the field, 409 naming the state), nothing written when refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orderpilot import OrderPilot
from tests.factories import placed_order, shipped_order, stock
from tests.integration.integ.server import Client, row_counts, running_server
from tests.integration.risk.test_address_corrections import CORRECTED, NANSHAN

BLOCKED = "on the block list (rule blacklist): the order cannot be sent there"


@pytest.fixture
def ruled(any_url: str) -> Iterator[OrderPilot]:
    """A shop with the packaged risk rules (the correction meets its address rules)."""
    pilot = OrderPilot(any_url)
    stock(pilot, quantity=100)
    yield pilot
    pilot.close()


@pytest.fixture
def ops(ruled: OrderPilot) -> Iterator[Client]:
    with running_server(ruled) as base_url:
        client = Client(base_url)
        yield client
        client.http.close()


def correction(event_id: str, address: dict, **extra) -> dict:
    return {"event_id": event_id, "address": address, "by": "mei", **extra}


def test_ops_correct_an_address_once_per_event(ops, ruled):
    # Given an order to 深圳 awaiting payment
    order = placed_order(ruled, shipping_address=NANSHAN)
    path = f"/v1/ops/orders/{order.id}/address"
    # When ops correct it to 杭州 西湖区
    first = ops.post(path, correction("addr-1", CORRECTED, reason="买家来电确认"))
    # Then it ships there, recipient and phone kept, the history naming who
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["changed"], body["applied"], body["duplicate"]) == (True, True, False)
    assert body["order"]["shipping_address"] == {**CORRECTED, "recipient": "陈静",
                                                 "phone": "+86 137 2468 1357", "country": "CN"}
    last = ruled.orders.history(order.id)[-1]
    assert (last.trigger, last.actor, last.payload["to"]["street"]) == (
        "correct_address", "mei", "文***")
    written = row_counts(ruled)
    # and the same event again answers as the first did, writing nothing
    again = ops.post(path, correction("addr-1", CORRECTED, reason="买家来电确认"))
    assert again.status_code == 200 and again.headers["Idempotent-Replay"] == "true"
    assert again.json()["order"] == body["order"] and again.json()["duplicate"] is True
    # and the same address in a new event changes nothing: no history row, no event
    same = ops.post(path, correction("addr-2", CORRECTED))
    assert same.status_code == 200, same.text
    assert (same.json()["changed"], same.json()["applied"]) == (False, False)
    assert same.json()["note"] == "the order ships to this address already: nothing changed"
    after = row_counts(ruled)
    for log in ("webhook_events", "inbox"):  # the event's log and its key: once per event id
        assert after.pop(log) == written.pop(log) + 1
    assert after == written


@pytest.mark.parametrize(("address", "problems"), [
    ({**CORRECTED, "province": "广东省"},
     {"address.province": "广东省 does not contain 杭州市 (浙江省)"}),
    ({**CORRECTED, "phone": "138 0013 8000"}, {"address.phone": BLOCKED}),
    ({"province": "浙江省", "city": "杭州市"}, {"address.street": "expected a street address "
                                                                "(or a line)"}),
])
def test_a_refused_correction_is_422_naming_the_field_and_writes_nothing(ops, ruled, address,
                                                                         problems):
    # Given an order, and a phone on the block list
    order = placed_order(ruled, shipping_address=NANSHAN)
    ruled.risk.blacklist_add("phone", "+86 138 0013 8000", by="lee", reason="接码号")
    before = row_counts(ruled)
    # When ops send a correction placement's checks or rules refuse
    response = ops.post(f"/v1/ops/orders/{order.id}/address", correction("addr-9", address))
    # Then 422 names the field, and nothing is written (not even the event's log)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_input"
    assert response.json()["problems"] == problems
    assert row_counts(ruled) == before


def test_a_shipped_order_is_409_and_an_unsigned_correction_401(ops, ruled):
    shipped = shipped_order(ruled, shipping_address=NANSHAN)
    path = f"/v1/ops/orders/{shipped.id}/address"
    refused = ops.post(path, correction("addr-3", CORRECTED))
    assert refused.status_code == 409, refused.text
    assert refused.json()["state"] == "shipped"
    assert "correct_address" not in refused.json()["allowed"]
    # signed with another source's secret: 401 before anything is parsed
    assert ops.post(path, correction("addr-4", CORRECTED),
                    secret="shop-secret-for-tests").status_code == 401
    assert row_counts(ruled)["webhook_events"] == 0
