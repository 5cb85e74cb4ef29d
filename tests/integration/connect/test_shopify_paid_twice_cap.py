"""A refund the merchant makes in Shopify's admin of one of a case's tins and the tea set,
its money pending, when a lost chargeback paid the case's two tins back: only the tin's price
is paid twice, the tea set's money is the order's own refund — whether the refund was pending
when the chargeback came or named the units after it. Before: its pending transaction was
capped by the chargeback's part alone, so ¥79.80 was told paid twice for one tin of ¥39.90.
Real HTTP server, webhooks signed as Shopify signs them, both stores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from orderpilot import OrderPilot
from statemachine.risk_port import approve_everything
from tests.factories import stock
from tests.integration.connect.providers import shopify_order
from tests.integration.connect.shopify_http import ledger, send
from tests.integration.connect.test_shopify_case_refund_lines import (
    REFUND,
    TEA,
    tea_order,
    tin_and_tea_set,
    units_refunded,
)
from tests.integration.connect.test_shopify_case_refunds import events, serve, settings
from tests.integration.connect.test_shopify_chargeback_admin_refunds import (
    CHARGEBACK,
    lose,
    progress,
)

PENDING = 702


@pytest.fixture
def shop(any_url, clock) -> Iterator[tuple[OrderPilot, Any, str]]:
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                       settings=settings())
    stock(pilot, sku="SKU-2", quantity=20)
    yield from serve(pilot)


def two_tin_case(pilot: OrderPilot, http: Any) -> str:
    """Three tins of 龙井 (¥39.90, line 1) and a tea set (¥59.90, line 2) paid at checkout,
    ¥179.60 of goods; a refund-only case on two tins (¥79.80) approved: owed in the admin."""
    body = shopify_order(TEA, skus=("SKU-1", "SKU-2"), quantity=3, financial_status="paid")
    body["line_items"][1].update(quantity=1, price="59.90", title="青瓷茶具")
    body.update(total_price="189.60", subtotal_price="179.60")
    created = send(http, "orders/create", body, "wh-1")
    assert created.json()["order"]["state"] == "paid", created.text
    case = pilot.cases.open("o-1", kind="refund_only", lines=[{"line_no": 1, "quantity": 2}],
                            reason="两罐茶叶受潮结块")
    pilot.cases.fire(case.id, "review", actor="system:refund-review")
    pilot.cases.approve(case.id, by="mei", reason="照片显示受潮")
    return case.id


def refund_reason(pilot: OrderPilot, ref: str) -> str:
    with pilot.context.tx(readonly=True) as tx:
        return str(tx.store.sql.one("SELECT reason FROM payment_records WHERE kind = 'refund' "
                                    "AND provider_ref = :r", {"r": ref})[0])


@pytest.mark.parametrize("arrival", ["pending when the chargeback came",
                                     "named after the chargeback"])
def test_a_pending_refund_of_a_case_tin_and_the_tea_set_pays_only_the_tin_twice(
        shop, arrival):
    pilot, http, _ = shop
    case_id = two_tin_case(pilot, http)
    refund = tin_and_tea_set(REFUND, "pending", PENDING)
    if arrival == "pending when the chargeback came":
        assert send(http, "refunds/create", refund, "wh-2").json()["applied"] is False
        lose(http, "79.80")
    else:
        lose(http, "79.80")
        assert send(http, "refunds/create", refund, "wh-2").status_code == 200
    assert pilot.cases.get(case_id).state == "refunded"
    # When the refund's ¥99.80 succeeds at the gateway
    paid = send(http, "order_transactions/create", {
        "id": PENDING, "order_id": TEA, "kind": "refund", "status": "success",
        "amount": "99.80", "currency": "CNY"}, "wh-3")
    assert paid.status_code == 200 and paid.json()["applied"] is True, paid.text
    # Then only the tin's ¥39.90 is paid twice (before: ¥79.80, the chargeback's whole part,
    # and only ¥20.00 of the tea set's ¥59.90 was the order's own refund)
    [told] = events(pilot, "orderpilot.order.refund_paid_twice")
    assert (told["amount"], told["counted"], told["beyond_order"], told["paid_back_by"]) == (
        3990, 3990, 0, CHARGEBACK), told
    # And the tea set is the order's own refund: everything paid is counted refunded once
    order = pilot.orders.get("o-1")
    assert (order.refunded, units_refunded(pilot)) == (17960, [2, 1])
    assert ledger(pilot)[-1] == ("refund", 9980, f"shopify:{REFUND}")
    reason = refund_reason(pilot, f"shopify:{REFUND}")
    assert "a second time" in reason and "(goods " not in reason, reason
    kept = progress(pilot, f"refund:{case_id}")
    assert (kept["waiting"], kept["twice"], kept.get("expects")) == ([], 3990, {}), kept
    assert pilot.payments.refunds_owed() == []


@pytest.mark.parametrize("arrival", ["pending when the chargeback came",
                                     "named after the chargeback"])
def test_the_tea_set_refunded_beside_a_tin_paid_twice_is_counted_before_the_second_payment(
        shop, arrival):
    pilot, http, _ = shop
    # Given two tins (line 1) and the tea set (line 2), ¥139.70 of goods, a case on both tins
    # (¥79.80) owed in the admin
    created = send(http, "orders/create", tea_order(), "wh-1")
    assert created.json()["order"]["state"] == "paid", created.text
    case = pilot.cases.open("o-1", kind="refund_only", lines=[{"line_no": 1, "quantity": 2}],
                            reason="两罐茶叶受潮结块")
    pilot.cases.fire(case.id, "review", actor="system:refund-review")
    pilot.cases.approve(case.id, by="mei", reason="照片显示受潮")
    refund = tin_and_tea_set(REFUND, "pending", PENDING)
    if arrival == "pending when the chargeback came":
        assert send(http, "refunds/create", refund, "wh-2").json()["applied"] is False
        lose(http, "79.80")
    else:
        lose(http, "79.80")
        assert send(http, "refunds/create", refund, "wh-2").status_code == 200
    assert pilot.orders.get("o-1").refunded == 7980  # ¥59.90 left: the tea set's price
    # When the merchant's refund of a tin and the tea set (¥99.80) succeeds
    paid = send(http, "order_transactions/create", {
        "id": PENDING, "order_id": TEA, "kind": "refund", "status": "success",
        "amount": "99.80", "currency": "CNY"}, "wh-3")
    # Then it is booked: the tea set is the order's own refund, counted first, and the tin's
    # second payment is beyond what the order had left (before: the second payment was
    # counted first, ¥39.90 of the ¥59.90 left, and the tea set's ¥59.90 refused — 422
    # "only 2000 of o-1 is left to refund", the ¥99.80 that left Shopify never booked)
    assert paid.status_code == 200 and paid.json()["applied"] is True, paid.text
    [told] = events(pilot, "orderpilot.order.refund_paid_twice")
    assert (told["amount"], told["counted"], told["beyond_order"]) == (3990, 0, 3990), told
    assert (pilot.orders.get("o-1").refunded, units_refunded(pilot)) == (13970, [2, 1])
    assert ledger(pilot)[-1] == ("refund", 9980, f"shopify:{REFUND}")
    assert pilot.payments.refunds_owed() == []
