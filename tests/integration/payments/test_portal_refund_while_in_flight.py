"""A trade refunded in full in Alipay's merchant portal before it shipped, while a refund of ours
is in flight or a dispute is open: the order is not cancelled by the notice (what is in flight
or disputed may still move money, so a person decides), but ops are told at once, with the
notification a packed order refunded in full gets (`shipping_held`) — before, nobody was told
and the warehouse found out when `ship` refused. End to end over HTTP with Alipay's notices,
both stores (test_alipay_portal_refunds.py has the order with nothing in flight)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from integrations.ingest.money_events import apply_money_event
from integrations.notifications.templates import render
from statemachine.ports import MoneyEvent
from tests.integration.payments.books import assert_books_balance, ledger
from tests.integration.payments.test_alipay_notify import Shop, alipay_shop
from tests.integration.payments.test_alipay_portal_refunds import outbox, paid_and_moved


@pytest.fixture
def shop(any_url, clock) -> Iterator[Shop]:
    with alipay_shop(any_url, clock) as shop:
        yield shop


def refund_of_ours_in_flight(shop: Shop, clock, order_id: str) -> None:
    """The buyer's refund-only request for the whole order, approved; Alipay unreachable, so
    our refund of ¥88.88 waits for its retry."""
    case = shop.pilot.cases.open(order_id, kind="refund_only", reason="拍错了，不要了",
                                 lines=[{"line_no": 1, "quantity": 1}])
    shop.pilot.cases.fire(case.id, "review", actor="system:refund-review")
    shop.alipay.fail_next(times=3, status=503)
    assert shop.pilot.cases.approve(case.id, by="mei", reason="未发货，同意").state == "approved"


def dispute_open(shop: Shop, clock, order_id: str) -> None:
    """The buyer's bank disputes ¥20.00 of the payment (the provider's notice booked)."""
    ref = shop.pilot.orders.get(order_id).payment_ref
    apply_money_event(shop.pilot.context, MoneyEvent(
        "alipay", f"dispute-{order_id}", "dispute_opened", ref, 2000, "CNY", clock.now(),
        order_id=order_id, dispute_ref=f"dp-{order_id}", reason="fraudulent",
        due_by=clock.now() + timedelta(days=7)))


@pytest.mark.parametrize("meanwhile", [refund_of_ours_in_flight, dispute_open],
                         ids=["a refund of ours in flight", "a dispute open"])
@pytest.mark.parametrize("steps", [(), ("start_picking",)], ids=["paid", "picking"])
def test_a_trade_refunded_in_full_in_the_portal_while_money_is_in_flight_tells_ops(
        shop, clock, meanwhile, steps):
    # Given a paid order of ¥88.88 (maybe being picked), with money in flight
    order_id = paid_and_moved(shop, clock, steps)
    meanwhile(shop, clock, order_id)
    state = shop.pilot.orders.get(order_id).state
    # When staff refund it in full in the merchant portal and Alipay's notice comes (twice)
    shop.alipay.portal_refund(order_id, "portal-full-9", 8888)
    notice = shop.alipay.notify(order_id, "TRADE_CLOSED", at=clock.now(),
                                refund=("portal-full-9", 8888))
    assert [shop.post(notice).text for _ in range(2)] == ["success"] * 2
    # Then the refund is booked and the order is left as it was (not cancelled: what is in
    # flight or disputed may still move money)
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.refunded) == (state, 8888)
    # And ops are told at once, once, as for a packed order refunded in full (before: nobody)
    [held] = outbox(shop, order_id, "orderpilot.order.shipping_held")
    told = render("orderpilot.order.shipping_held", held)
    assert told is not None and told.audience == "ops"
    assert f"Do not ship {order_id}" in told.title
    assert "8888 CNY" in told.body and f"({state})" in told.body
    assert "not cancelled" in told.body and "in flight or disputed" in told.body
    # And a person can cancel it: its stock back, nothing more asked of Alipay
    shop.pilot.orders.fire(order_id, "cancel", actor="ops:wang", reason="已在支付宝全额退款")
    assert shop.pilot.orders.get(order_id).state == "cancelled"
    level = shop.pilot.inventory.level(sku="SKU-1", warehouse="WH-1")
    assert level.reserved == 0
    # And when our refund in flight is made again, Alipay refuses it (nothing is left): the
    # buyer got ¥88.88 back once, and the books balance against Alipay's
    clock.advance(minutes=5)
    shop.pilot.payments.sweep()
    assert shop.alipay.trades[order_id]["refunds"] == {"portal-full-9": 8888}
    assert ledger(shop, order_id) == [("capture", 8888), ("refund", 8888)]
    assert_books_balance(shop, order_id)
