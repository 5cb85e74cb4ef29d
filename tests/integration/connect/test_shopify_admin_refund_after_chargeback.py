"""The merchant refunds a case's units in Shopify's admin after a lost chargeback has already
paid them back (a webhook delayed, or the merchant working from a stale list): the other
arrival order of test_shopify_chargeback_admin_refunds.py, where the refund was pending when
the chargeback came. Both orders end alike: the money booked once, the case not refunded
again, the units not marked again, the order counting what it can, finance told the units were
paid twice. Real HTTP server, webhooks signed as Shopify signs them, both stores."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.connect.providers import shopify_refund
from tests.integration.connect.shopify_http import ledger, send
from tests.integration.connect.test_shopify_case_refund_lines import (  # noqa: F401 - fixture
    REFUND,
    TEA,
    TEA_SET,
    TIN,
    owed_case,
    refund_of,
    shop,
    tea_order,
    units_refunded,
)
from tests.integration.connect.test_shopify_case_refunds import events
from tests.integration.connect.test_shopify_chargeback_admin_refunds import (
    PENDING,
    assert_paid_twice,
    lose,
    progress,
    transaction,
)
from tests.integration.connect.test_shopify_disputes import DISPUTE


def refunded_after(http: Any, arrival: str) -> None:
    """The merchant's refund of the case's tin (¥39.90, transaction 702) arriving now: still
    pending, then succeeding; succeeding at once; or its transaction settled before the refund
    came (order_transactions/create first: counted by amount, its units unknown)."""
    status = "pending" if arrival == "pending, then succeeding" else "success"
    if arrival == "its money before it":
        first = transaction(http, "success", "wh-1t")
        assert first.status_code == 200 and first.json()["applied"] is True, first.text
    refund = send(http, "refunds/create",
                  refund_of(TIN, "39.90", transactions=[(PENDING, "39.90", status)]), "wh-2")
    assert refund.status_code == 200, refund.text
    if status == "pending":
        assert refund.json()["applied"] is False, refund.text
        paid = transaction(http, "success")
        assert paid.status_code == 200 and paid.json()["applied"] is True, paid.text
        assert transaction(http, "success", "wh-4").json()["applied"] is False  # once
    else:
        again = send(http, "refunds/create", refund_of(TIN, "39.90", transactions=[
            (PENDING, "39.90", status)]), "wh-4")
        assert again.json()["applied"] is False, again.text  # once


@pytest.mark.parametrize(("arrival", "booked_as"), [
    ("pending, then succeeding", f"shopify:{REFUND}"),
    ("succeeding at once", f"shopify:{REFUND}"),
    ("its money before it", f"shopify:transaction:{PENDING}"),
])
@pytest.mark.parametrize(("chargeback", "booked", "counted"), [
    ("59.90", 5990, 3990),  # the order has room for the second payment: it counts all of it
    ("139.70", 13970, 0),  # refunded in full by the chargeback: the second payment is a loss
])
def test_an_admin_refund_of_units_a_lost_chargeback_paid_back_before_it_is_paid_twice(
        shop, arrival, booked_as, chargeback, booked, counted):  # noqa: F811
    pilot, http, _ = shop
    case_id = owed_case(pilot, http)  # one tin (¥39.90) owed in Shopify's admin
    # Given the buyer's bank took the money back and the merchant lost: the case paid back
    lose(http, chargeback)
    assert pilot.cases.get(case_id).state == "refunded"
    assert units_refunded(pilot) == [1, 0]
    # When the merchant refunds the case's tin in the admin all the same
    refunded_after(http, arrival)
    # Then its money is booked once (under the Shopify refund, or the transaction that came
    # first)
    assert ledger(pilot)[1:] == [("chargeback", booked, str(DISPUTE)),
                                 ("refund", 3990, booked_as)]
    # And it ends as when the refund was pending before the chargeback: the case not refunded
    # again, nothing owed, the tin not marked again (before: line 1 counted 2 tins refunded —
    # the refund read as the order's own of another), the order counting what it can, finance
    # told (before: nothing said)
    assert_paid_twice(pilot, case_id, booked, counted)
    kept = progress(pilot, f"refund:{case_id}")
    assert (kept["waiting"], kept["twice"], kept["units"]) == ([], 3990, {"1": 1})


def test_an_admin_refund_made_after_a_lost_chargeback_that_fails_is_not_owed_again(
        shop):  # noqa: F811
    pilot, http, _ = shop
    case_id = owed_case(pilot, http)
    lose(http, "59.90")
    # When the merchant refunds the case's tin after the chargeback paid it, and it fails
    noted = send(http, "refunds/create",
                 refund_of(TIN, "39.90", transactions=[(PENDING, "39.90", "pending")]), "wh-2")
    assert noted.json()["applied"] is False, noted.text
    failed = transaction(http, "failure")
    # Then nothing is owed again: the bank paid the case back (before: the pending refund's
    # units were marked as the order's own refund — line 1 at 2 tins — and its failure listed
    # refund-again:shopify:702, ¥39.90 to refund a second time)
    assert failed.status_code == 200 and "nothing owed again" in failed.json()["note"], \
        failed.text
    assert pilot.payments.refunds_owed() == []
    assert units_refunded(pilot) == [1, 0]
    assert (pilot.cases.get(case_id).state, pilot.orders.get("o-1").refunded) == (
        "refunded", 5990)


def test_a_refund_of_another_line_after_a_lost_chargeback_is_the_orders_own(
        shop):  # noqa: F811
    pilot, http, _ = shop
    case_id = owed_case(pilot, http)
    lose(http, "59.90")
    # When the merchant refunds the tea set (line 2, ¥59.90), not the case's tin
    other = send(http, "refunds/create", refund_of(TEA_SET, "59.90"), "wh-2")
    # Then it is the order's own refund, matched by units: nothing paid twice
    assert other.json()["applied"] is True, other.text
    assert events(pilot, "orderpilot.order.refund_paid_twice") == []
    assert (pilot.orders.get("o-1").refunded, units_refunded(pilot)) == (11980, [1, 1])
    assert progress(pilot, f"refund:{case_id}").get("twice", 0) == 0


def test_a_refund_whose_money_was_counted_before_a_chargeback_paid_its_units_says_so(
        shop):  # noqa: F811
    pilot, http, _ = shop
    created = send(http, "orders/create", tea_order(), "wh-1")
    assert created.json()["order"]["state"] == "paid", created.text
    # Given the merchant's refund of a tin and the ¥10.00 shipping, its transaction first
    # (¥49.90): no refund of ours waits, so the tin's ¥39.90 is counted as goods by amount
    first = send(http, "order_transactions/create", {
        "id": 800, "order_id": TEA, "kind": "refund", "status": "success", "amount": "49.90",
        "currency": "CNY"}, "wh-2")
    assert first.json()["applied"] is True and pilot.orders.get("o-1").refunded == 3990
    # And then a case on a tin approved (owed in the admin) that a lost chargeback paid back
    case = pilot.cases.open("o-1", kind="refund_only", lines=[{"line_no": 1, "quantity": 1}],
                            reason="茶叶受潮结块")
    pilot.cases.fire(case.id, "review", actor="system:refund-review")
    pilot.cases.approve(case.id, by="mei", reason="照片显示受潮")
    lose(http, "39.90")
    assert pilot.cases.get(case.id).state == "refunded"
    # When the refund itself arrives, naming the tin the chargeback paid back
    late = send(http, "refunds/create", shopify_refund(
        TEA, subtotal="39.90", shipping="10.00", transaction_id=800), "wh-3")
    # Then it answers that it was applied, saying the tin was paid a second time (before:
    # applied false, "its money was booked already … no goods to refund", while finance was
    # told it was paid twice)
    assert late.status_code == 200 and late.json()["applied"] is True, late.text
    assert "a second time" in (late.json()["note"] or ""), late.text
    [told] = events(pilot, "orderpilot.order.refund_paid_twice")
    assert (told["amount"], told["counted"], told["beyond_order"]) == (3990, 3990, 0), told
    assert pilot.orders.get("o-1").refunded == 7980  # the chargeback's ¥39.90, and the tin's
    assert units_refunded(pilot) == [1, 0] and pilot.payments.refunds_owed() == []
