"""What the ledger says Shopify still holds of an order (`shopify_common.held`) counts the
chargebacks the bank took for good — lost or conceded, booked in the ledger as `chargeback` —
as the order counts them refunded. An inquiry takes nothing and a won chargeback gives it back:
neither changes it. Real HTTP server, webhooks signed as Shopify signs them, both stores."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.connect.shopify_http import ledger, send
from tests.integration.connect.test_shopify_case_refund_lines import (  # noqa: F401 - fixture
    TEA,
    shop,
    tea_order,
)
from tests.integration.connect.test_shopify_disputes import shopify_dispute

SET = "59.90"  # the 青瓷茶具 the buyer's bank disputes (¥139.70 of goods, ¥10.00 shipping)


def paid(http: Any) -> None:
    created = send(http, "orders/create", tea_order(), "wh-1")
    assert created.json()["order"]["state"] == "paid", created.text


def dispute(http: Any, kind: str, ending: str) -> None:
    send(http, "disputes/create", shopify_dispute(TEA, amount=SET, kind=kind), "wh-d1")
    ended = send(http, "disputes/update",
                 shopify_dispute(TEA, amount=SET, kind=kind, status=ending), "wh-d2")
    assert ended.status_code == 200, ended.text


def refund_transaction(http: Any, amount: str) -> Any:
    """A refund's transaction settled at the gateway before its refund (refunds/create) came:
    its goods are counted by amount, beyond what Shopify holds for shipping."""
    return send(http, "order_transactions/create", {
        "id": 990, "order_id": TEA, "kind": "refund", "status": "success", "amount": amount,
        "currency": "CNY"}, "wh-t1")


def test_a_lost_chargeback_is_not_taken_for_shipping_shopify_still_holds(shop):  # noqa: F811
    pilot, http, _ = shop
    paid(http)
    # Given the bank took the tea set back for good (¥59.90: the order counts it refunded)
    dispute(http, "chargeback", "lost")
    assert pilot.orders.get("o-1").refunded == 5990
    # When a ¥39.90 refund transaction settles, its refund not received yet
    settled = refund_transaction(http, "39.90")
    # Then only the ¥10.00 shipping Shopify still holds beyond the goods is left out: ¥29.90
    # counted as goods (before: the chargeback's ¥59.90 was taken for money Shopify held
    # beyond the goods — ¥69.90 — and none of the ¥39.90 was counted)
    assert settled.status_code == 200 and settled.json()["applied"] is True, settled.text
    assert pilot.orders.get("o-1").refunded == 5990 + 2990
    assert ledger(pilot)[1:] == [("chargeback", 5990, str(285_332_461_850_454)),
                                 ("refund", 3990, "shopify:transaction:990")]


@pytest.mark.parametrize(("kind", "ending"), [("inquiry", "lost"), ("chargeback", "won")])
def test_a_dispute_that_took_nothing_for_good_leaves_what_shopify_holds(
        shop, kind, ending):  # noqa: F811
    pilot, http, _ = shop
    paid(http)
    # Given an inquiry closed without a chargeback, or a chargeback won: no money kept
    dispute(http, kind, ending)
    assert pilot.orders.get("o-1").refunded == 0
    # When a ¥39.90 refund transaction settles before its refund
    settled = refund_transaction(http, "39.90")
    # Then Shopify still holds the ¥10.00 shipping beyond the goods: ¥29.90 counted
    assert settled.json()["applied"] is True, settled.text
    assert pilot.orders.get("o-1").refunded == 2990


def test_a_cancellation_refunded_by_shopify_books_only_what_the_chargeback_left(
        shop):  # noqa: F811
    pilot, http, _ = shop
    paid(http)
    dispute(http, "chargeback", "lost")
    # When the merchant cancels the order in Shopify, refunding what is left
    body = tea_order(cancelled_at="2026-11-12T10:00:00+08:00", cancel_reason="customer")
    cancelled = send(http, "orders/cancelled", {**body, "financial_status": "refunded"},
                     "wh-c1")
    # Then the ledger books the ¥89.80 Shopify still held (goods ¥79.80, shipping ¥10.00),
    # not the whole ¥149.70 again (before: the chargeback's ¥59.90 was given back twice)
    assert cancelled.status_code == 200, cancelled.text
    assert pilot.orders.get("o-1").state == "cancelled"
    assert ledger(pilot)[-1] == ("refund", 8980, f"shopify:{TEA}")
    kinds = dict.fromkeys(("capture", "chargeback", "refund"), 0)
    for kind, amount, _ in ledger(pilot):
        kinds[kind] += amount
    assert kinds["capture"] - kinds["chargeback"] - kinds["refund"] == 0

