"""What the console reads from the store — the open cases, the review queue's money, the
shop's health, the Prometheus gauges, the outbox cursor — on both stores."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from integrations.console.casework import money, open_case, open_cases, plain_reason
from integrations.console.follower import Follower
from integrations.console.health import shop_health
from integrations.console.metrics import ConsoleMetrics
from orderpilot import OrderPilot
from tests.integration.orchestration.shop import review_big_orders


@pytest.fixture
def shop(any_url: str, clock: Any):
    pilot = OrderPilot(any_url, clock=clock, risk_check=review_big_orders)
    pilot.inventory.receive(sku="TEA-LJ", warehouse="WH-HZ", quantity=100)
    yield pilot
    pilot.close()


def place(pilot: OrderPilot, buyer: str, price: int) -> str:
    return pilot.orders.place(
        buyer_id=buyer, lines=[{"sku": "TEA-LJ", "quantity": 1, "unit_price": price}],
        shipping_address={"recipient": "张伟", "province": "上海市", "city": "上海市",
                          "district": "黄浦区", "street": "南京东路 100 号"}).id


def gauges(pilot: OrderPilot) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(ConsoleMetrics(pilot.context).registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_a_held_order_is_an_open_case_until_it_is_decided(shop: OrderPilot):
    # Given one order held for review and one that is not
    held, plain = place(shop, "b-1", 700_000), place(shop, "b-2", 2_000)
    # Then only the held one waits for a person, with its SLA and plain-money reasons
    [case] = open_cases(shop.context)
    assert (case.kind, case.entity, case.episode, case.amount) == ("risk-review", held, held,
                                                                   700_000)
    assert case.due_at - case.opened_at == timedelta(hours=24)
    assert open_case(shop.context, "risk-review", plain) is None
    # When a reviewer decides it, it is no longer open
    shop.reviews.approve(held, by="mei", reason="ok")
    assert open_cases(shop.context) == []


def test_money_in_reasons_reads_in_major_units():
    reason = {"text": "amount 699900 above 500000",
              "values": {"amount": 699900, "threshold": 500000}}
    assert plain_reason(reason, "CNY") == "amount ¥6,999.00 above ¥5,000.00"
    assert money(-1250, "USD") == "-USD 12.50"


def test_the_gauges_show_the_queue_the_breaches_and_the_outbox(shop: OrderPilot,
                                                               clock: Any):
    # Given two held orders, one of them past its 24 h SLA, and nothing relayed yet
    place(shop, "b-1", 700_000)
    clock.advance(hours=25)
    place(shop, "b-2", 800_000)
    found = gauges(shop)
    # Then the queue, the breach and the waiting outbox rows are what a dashboard shows
    assert found[("orderpilot_review_queue", (("kind", "risk-review"),))] == 2
    assert found[("orderpilot_sla_breaches", (("kind", "risk-review"),))] == 1
    assert found[("orderpilot_outbox_waiting", ())] == 4  # created, under_review × 2
    assert found[("orderpilot_outbox_lag_seconds", ())] == 25 * 3600
    health = shop_health(shop.context, shop.clock.now())
    assert health.orders_by_state == {"under_review": 2} and health.review_share == 1.0


def test_the_cursor_survives_a_restart_and_a_first_start_begins_at_the_newest_row(
        shop: OrderPilot):
    # Given rows written before the console ever ran
    place(shop, "b-1", 2_000)
    first = Follower(shop.context)
    assert first.poll(now=0.0) == []  # old rows are the re-drive's business, not replayed
    # When new rows arrive and are handled, then the console restarts
    place(shop, "b-2", 2_000)
    seen = first.poll(now=1.0)
    first.commit()
    again = Follower(shop.context)
    # Then the restarted follower carries on after them
    assert [r.event for r in seen] == ["orderpilot.order.created",
                                       "orderpilot.order.awaiting_payment"]
    assert again.cursor == first.cursor and again.poll(now=2.0) == []
