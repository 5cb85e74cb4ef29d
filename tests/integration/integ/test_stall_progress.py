"""Reproduction 6: a stalled parcel remembers how far it had come; late scans never move it back."""

from __future__ import annotations

import pytest

from orderpilot import GuardRejected
from tests.integration.integ.events import tracking
from tests.integration.integ.test_http_events import shipped


def test_a_delayed_pickup_scan_after_a_stall_does_not_move_the_parcel_back(client, shop):
    # Given a parcel out for delivery that went quiet: the carrier reported an exception
    order, parcel = shipped(client, shop)
    for n, status in enumerate(("picked_up", "in_transit", "out_for_delivery")):
        assert client.post("/v1/carriers/events", tracking(parcel, status, f"k-{n}")).json()[
            "applied"]
    stalled = client.post("/v1/carriers/events", tracking(parcel, "exception", "k-x",
                                                          reason="派送异常：收件人电话无人接听"))
    assert stalled.json()["shipment"]["state"] == "stalled"
    # When the carrier's delayed picked_up scan from two days earlier arrives
    late = client.post("/v1/carriers/events", tracking(
        parcel, "picked_up", "k-late", occurred_at="2026-11-09T08:00:00+08:00",
        location="杭州转运中心"))
    # Then it is recorded only, and the parcel is still stalled where it was
    assert late.status_code == 200
    assert late.json()["applied"] is False
    assert "out_for_delivery" in late.json()["note"]
    assert shop.shipments.get(parcel["id"]).state == "stalled"
    moves = [(h.from_state, h.to_state) for h in shop.orders.history(order["id"])
             if h.entity_id == parcel["id"]]
    assert ("stalled", "picked_up") not in moves
    # and a scan as far as it had come resumes it, and delivery still delivers the order
    again = client.post("/v1/carriers/events", tracking(parcel, "out_for_delivery", "k-ofd"))
    assert again.json()["shipment"]["state"] == "out_for_delivery"
    assert client.post("/v1/carriers/events", tracking(parcel, "delivered", "k-d")).json()[
        "order"]["state"] == "delivered"


def test_the_python_api_refuses_to_move_a_stalled_parcel_back(client, shop):
    order, parcel = shipped(client, shop)
    for trigger in ("pick_up", "scan", "out_for_delivery", "stall"):
        shop.shipments.fire(parcel["id"], trigger)
    with pytest.raises(GuardRejected, match="already reached out_for_delivery"):
        shop.shipments.fire(parcel["id"], "scan")
    assert shop.shipments.get(parcel["id"]).state == "stalled"
