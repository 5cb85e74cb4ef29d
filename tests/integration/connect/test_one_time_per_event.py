"""Every row one inbound event writes carries one time (issue 10: a call takes `now` once, from
its caller or the clock, and all its writes use it). The shop's clock ticks a millisecond on
every read while the event is applied, so a handler or service that reads it again writes a
second time: the rows the event wrote or changed — history, outbox, ledger, money operations,
inbox, the webhook log, cases, disputes — must all show one. Real HTTP server, webhooks signed
as the providers sign them, both stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from integrations.config import Settings
from integrations.ingest.money_events import apply_money_event
from integrations.service import disputes
from orderpilot import OrderPilot
from statemachine.ports import MoneyEvent
from statemachine.risk_port import approve_everything
from tests.conftest import START
from tests.factories import placed_order, stock
from tests.fakes.clocks import TickingClock
from tests.fakes.http import patient_client
from tests.integration.connect.shopify_http import CANCELLED_AT, send
from tests.integration.connect.test_shopify_case_refund_lines import (
    TEA,
    TIN,
    owed_case,
    refund_of,
    tea_order,
)
from tests.integration.connect.test_shopify_case_refunds import serve, settings
from tests.integration.connect.test_shopify_disputes import DISPUTE, shopify_dispute
from tests.integration.connect.test_tracking_in import TRACKING, push, shipped_with
from tests.integration.integ.server import Client, running_server
from tests.integration.one_time import one_time


@pytest.fixture
def shop(any_url: str) -> Iterator[tuple[OrderPilot, Any, str]]:
    """The Shopify shop of the admin-refund tests (tea tins on line 1, a tea set on line 2),
    its clock ticking when told to."""
    pilot = OrderPilot(any_url, clock=TickingClock(START), risk_check=approve_everything,
                       settings=settings())
    stock(pilot, sku="SKU-2", quantity=20)
    yield from serve(pilot)


def test_a_lost_chargeback_settles_the_admin_refund_it_pays_back_at_the_time_of_its_step(shop):
    # Given a case refund owed in Shopify's admin and a chargeback of all the goods opened
    pilot, http, _ = shop
    case_id = owed_case(pilot, http)
    send(http, "disputes/create", shopify_dispute(TEA, amount="139.70"), "wh-d1")
    # When the dispute is lost (one call: its step books the chargeback, which pays the
    # case's refund back and settles it)
    _, times = one_time(pilot, lambda: disputes.fire_dispute(
        pilot.context, 1, "lose", "finance:li", {"reason": "银行判买家胜"}))
    # Then the settled refund, the case's step and the ledger carry the step's time (before:
    # the settlement and the case refunded read the clock again, a later time each)
    assert pilot.cases.get(case_id).state == "refunded"
    assert {"payment_operations.settled_at", "payment_records.at", "transition_history.at",
            "outbox.created_at", "aftersales_cases.updated_at"} <= times.keys(), times


# -- one webhook delivery each, over HTTP ---------------------------------------------------------

IN_ANY_EVENT = {"webhook_events.received_at", "inbox.created_at", "transition_history.at",
                "outbox.created_at"}


def test_a_shopify_refund_settling_a_case_refund_owed_in_the_admin_writes_one_time(shop):
    pilot, http, _ = shop
    case_id = owed_case(pilot, http)
    # When the merchant refunds the case's tin in Shopify's admin (refunds/create)
    answer, times = one_time(pilot, lambda: send(http, "refunds/create",
                                                 refund_of(TIN, "39.90"), "wh-2"))
    # Then the case's refund is settled, and every row says when: once
    assert answer.json()["applied"] is True, answer.text
    assert pilot.cases.get(case_id).state == "refunded"
    assert IN_ANY_EVENT | {"payment_operations.settled_at", "payment_records.at",
                           "aftersales_cases.updated_at", "orders.updated_at"} <= times.keys()


def test_a_shopify_dispute_opened_then_lost_writes_one_time_per_delivery(shop):
    pilot, http, _ = shop
    owed_case(pilot, http)
    # When Shopify opens a chargeback of all the goods (disputes/create)
    opened, times = one_time(pilot, lambda: send(
        http, "disputes/create", shopify_dispute(TEA, amount="139.70"), "wh-d1"))
    assert opened.json()["dispute"]["state"] == "opened", opened.text
    assert IN_ANY_EVENT | {"disputes.created_at"} <= times.keys(), times
    # And then says the merchant lost it (disputes/update): the chargeback booked, the case
    # refund owed in the admin paid back by it
    lost, times = one_time(pilot, lambda: send(
        http, "disputes/update", shopify_dispute(TEA, amount="139.70", status="lost"), "wh-d2"))
    assert lost.json()["dispute"]["state"] == "lost", lost.text
    assert IN_ANY_EVENT | {"payment_operations.settled_at", "payment_records.at",
                           "disputes.updated_at", "aftersales_cases.updated_at"} <= times.keys()


def test_a_provider_chargeback_lost_through_the_money_events_writes_one_time(shop):
    pilot, http, _ = shop
    owed_case(pilot, http)
    for event_id, kind, extra in (("e-1", "dispute_opened", {"reason": "fraudulent"}),
                                  ("e-2", "dispute_closed", {"outcome": "lost"})):
        # the provider's own time, kept as the event's: not a time of ours
        event = MoneyEvent("simulated", event_id, kind, "shopify:5", 13970, "CNY", START,
                           order_id="o-1", dispute_ref=str(DISPUTE), **extra)
        (outcome, _), times = one_time(pilot, lambda e=event: apply_money_event(
            pilot.context, e))
        assert outcome.body["applied"] is True, outcome.body
        assert times.keys() >= IN_ANY_EVENT, times
    assert {"payment_operations.settled_at", "payment_records.at"} <= times.keys()


def test_shopify_order_placed_paid_at_checkout_then_cancelled_and_refunded_writes_one_time(
        shop):
    pilot, http, _ = shop
    # When Shopify's order comes paid at checkout: placed (a transaction of its own) and paid
    created, times = one_time(pilot, lambda: send(http, "orders/create", tea_order(), "wh-1"))
    assert created.json()["order"]["state"] == "paid", created.text
    assert IN_ANY_EVENT | {"orders.created_at", "stock_holds.created_at",
                           "payment_records.at"} <= times.keys()
    # When it is cancelled in Shopify and refunded in full, with a case refund owed in the
    # admin that the refund paid back
    case = pilot.cases.open("o-1", kind="refund_only", lines=[{"line_no": 1, "quantity": 1}],
                            reason="茶叶受潮结块")
    pilot.cases.fire(case.id, "review", actor="system:refund-review")
    pilot.cases.approve(case.id, by="mei", reason="照片显示受潮")
    body = {**tea_order(cancelled_at=CANCELLED_AT, cancel_reason="customer"),
            "financial_status": "refunded"}
    cancelled, times = one_time(pilot, lambda: send(http, "orders/cancelled", body, "wh-c1"))
    assert cancelled.json()["order"]["state"] == "cancelled", cancelled.text
    assert IN_ANY_EVENT | {"payment_operations.settled_at", "payment_records.at",
                           "orders.updated_at"} <= times.keys()


@pytest.fixture
def gateway_shop(any_url: str) -> Iterator[tuple[OrderPilot, Client]]:
    """A shop taking the generic gateway's signed events; its clock near the wall clock (the
    signatures are checked against it)."""
    now = datetime.now(UTC).replace(microsecond=0)
    pilot = OrderPilot(any_url, clock=TickingClock(now), risk_check=approve_everything)
    stock(pilot, quantity=20)
    with running_server(pilot) as base_url:
        client = Client(base_url)
        yield pilot, client
        client.http.close()
    pilot.close()


def test_a_gateway_capture_and_a_chargeback_each_write_one_time(gateway_shop):
    pilot, client = gateway_shop
    order = placed_order(pilot)

    def event(event_id: str, kind: str) -> dict[str, Any]:  # no occurred_at: ours is used
        return {"event_id": event_id, "type": kind, "order_id": order.id,
                "amount": order.total, "payment_ref": "pay-wx-1", "reason": "盗刷"}

    paid, times = one_time(pilot, lambda: client.post("/v1/payments/events",
                                                      event("pay-1", "succeeded")))
    assert paid.json()["order"]["state"] == "paid", paid.text
    assert IN_ANY_EVENT | {"payment_records.at", "orders.updated_at"} <= times.keys(), times
    charged, times = one_time(pilot, lambda: client.post("/v1/payments/events",
                                                         event("pay-2", "chargeback")))
    assert charged.json()["applied"] is True, charged.text
    assert IN_ANY_EVENT | {"payment_records.at", "risk_credit_events.at"} <= times.keys()


@pytest.fixture
def tracked(any_url: str) -> Iterator[tuple[OrderPilot, Any]]:
    pilot = OrderPilot(any_url, clock=TickingClock(START), risk_check=approve_everything,
                       settings=Settings(tracking=TRACKING))
    stock(pilot, quantity=50)
    with running_server(pilot) as base_url, patient_client(base_url) as http:
        yield pilot, http
    pilot.close()


def test_a_tracking_push_writes_one_time(tracked):
    pilot, http = tracked
    order_id = shipped_with(pilot, "yto", "YT7516890123456")
    # When Kuaidi100 pushes 揽收 then 签收 (the parcel picked up, then delivered: the order
    # delivered with it)
    for state, step in (("1", "picked_up"), ("3", "delivered")):
        answer, times = one_time(pilot, lambda s=state: push(http, "YT7516890123456", s))
        assert answer.json()["applied"] is True, answer.text
        assert pilot.shipments.of_order(order_id)[0].state == step
        assert IN_ANY_EVENT | {"shipments.last_scan_at"} <= times.keys(), times
    assert pilot.orders.get(order_id).state == "delivered"
