"""Outbox rows become Prefect event envelopes with stable ids and coarse labels."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from integrations.events.envelope import amount_band, envelope, event_id


def _row(**overrides: object) -> SimpleNamespace:
    values = {"id": 7, "event": "orderpilot.case.requested", "entity": "case", "entity_id": 3,
              "order_id": 42, "payload": {"state": "requested"},
              "created_at": datetime(2026, 11, 2, 9, tzinfo=UTC)}
    return SimpleNamespace(**{**values, **overrides})


def test_the_same_outbox_row_always_becomes_the_same_event_id():
    assert event_id(7) == event_id(7) != event_id(8)
    assert event_id(7, source="shop-a") != event_id(7, source="shop-b")


@pytest.mark.parametrize(("total", "band"), [(0, "under-100"), (9_999, "under-100"),
                                             (10_000, "100-1000"), (499_999, "1000-5000"),
                                             (500_000, "5000-plus"), (None, "unknown")])
def test_amount_bands_cut_at_100_1000_and_5000(total: int | None, band: str):
    assert amount_band(total) == band


def test_a_case_event_is_about_the_order_with_the_case_and_buyer_related():
    order = SimpleNamespace(buyer_id="b-1", total=12_345)
    body = envelope(_row(), order, follows=None)
    assert body["resource"]["prefect.resource.id"] == "orderpilot.order.o-42"
    assert body["resource"]["orderpilot.state"] == "requested"
    assert {r["prefect.resource.role"] for r in body["related"]} == {"buyer", "case"}
    assert body["payload"]["outbox_id"] == 7 and "follows" not in body


def test_a_named_shops_events_are_about_its_own_resources_and_say_which_shop():
    # (a staging shop's o-42 and production's o-42 are two orders on one Prefect server)
    order = SimpleNamespace(buyer_id="b-1", total=12_345)
    body = envelope(_row(), order, follows=None, shop="staging")
    assert body["resource"]["prefect.resource.id"] == "orderpilot.order.staging-o-42"
    assert body["resource"]["orderpilot.order-id"] == "o-42"  # the id the shop's API knows
    assert body["resource"]["orderpilot.shop"] == "staging"
    assert {r["prefect.resource.id"] for r in body["related"]} == {
        "orderpilot.buyer.staging-b-1", "orderpilot.case.staging-c-3"}
    assert "orderpilot.shop" not in envelope(_row(), order, follows=None)["resource"]
