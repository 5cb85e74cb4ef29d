"""Money the merchant refunds in Shopify's admin after a refund failed there is matched to one
thing owed, never two: the failure being redone first (its `refund-again`), then a refund of
ours made as an amount (goodwill, a case's refund whose admin refund failed). Before, any refund
booked since the failure counted toward the `refund-again` — listed and settled — while the same
amount also settled the goodwill or the case. Real HTTP server, both stores."""

from __future__ import annotations

from integrations.service.money_refunds import refund_order
from tests.integration.connect.providers import shopify_order, shopify_refund
from tests.integration.connect.shopify_http import CANCELLED_AT, send
from tests.integration.connect.test_shopify_case_refund_lines import (  # noqa: F401 - fixture
    REFUND,
    owed_case,
    shop,
    tin_and_tea_set,
)
from tests.integration.connect.test_shopify_case_refunds import (
    TEA,
    amount_only_refund,
    operations,
)
from tests.integration.connect.test_shopify_failed_case_refunds import FAILING, failure


def owed(pilot) -> list[tuple[str, int]]:
    return sorted((r["kind"], r["owed"]) for r in pilot.payments.refunds_owed())


def test_an_amount_after_a_failed_refund_redoes_it_and_leaves_the_goodwill_owed(
        shop):  # noqa: F811
    pilot, http, _ = shop
    # Given a paid order of two tins of tea, a goodwill refund of ¥10.00 owed in Shopify's
    # admin, and the merchant's refund of one tin (¥39.90) failing at the gateway
    send(http, "orders/create", shopify_order(TEA, financial_status="paid"), "wh-1")
    refund_order(pilot.context, 1, 1000, "物流延误补偿", "finance:li")
    pending = shopify_refund(TEA, status="pending", transaction_id=FAILING)
    assert send(http, "refunds/create", pending, "wh-2").status_code == 200
    assert failure(http, "39.90").json()["applied"] is True
    assert owed(pilot) == [("refund_failed", 3990), ("refund_in_admin", 1000)]
    # When the merchant refunds ¥39.90 again, as an amount
    redone = send(http, "refunds/create", amount_only_refund(REFUND + 1, "39.90"), "wh-5")
    # Then it redoes the failed refund, and only that: the goodwill is still owed (before:
    # both were settled by the same ¥39.90 — the buyer never got the ¥10.00)
    assert redone.json()["applied"] is True, redone.text
    assert owed(pilot) == [("refund_in_admin", 1000)]
    assert ("refund", "pending", "shopify", 1000) in operations(pilot)
    # When the merchant then refunds the ¥10.00 as an amount, it settles the goodwill
    goodwill = send(http, "refunds/create", amount_only_refund(REFUND + 2, "10.00"), "wh-6")
    assert goodwill.json()["applied"] is True, goodwill.text
    assert owed(pilot) == [] and pilot.orders.get("o-1").refunded == 1000


def test_an_amount_after_a_failed_refund_of_a_case_tin_and_the_tea_set_is_counted_once(
        shop):  # noqa: F811
    pilot, http, _ = shop
    # Given the case's tin and the tea set refunded in one refund (¥99.80) that failed: the
    # tin's ¥39.90 owed again by the case, the tea set's ¥59.90 by the order
    case_id = owed_case(pilot, http)
    assert send(http, "refunds/create", tin_and_tea_set(REFUND, "pending", FAILING),
                "wh-2").json()["applied"] is False
    assert failure(http, "99.80").json()["applied"] is True
    assert owed(pilot) == [("refund_failed", 5990), ("refund_in_admin", 3990)]
    # When the merchant refunds ¥39.90 as an amount
    first = send(http, "refunds/create", amount_only_refund(REFUND + 1, "39.90"), "wh-5")
    # Then it goes to the failure being redone: ¥20.00 of it still owed, the case's ¥39.90
    # too — ¥59.90 in all (before: the case settled by the ¥39.90 and the failure listed for
    # ¥20.00 less by the same money: ¥20.00 listed of the ¥59.90 still owed)
    assert first.json()["applied"] is True, first.text
    assert owed(pilot) == [("refund_failed", 2000), ("refund_in_admin", 3990)]
    assert pilot.cases.get(case_id).state == "approved"
    # When the merchant refunds the ¥59.90 left as an amount, the failure takes its ¥20.00
    # and the case the ¥39.90: nothing is owed
    rest = send(http, "refunds/create", amount_only_refund(REFUND + 2, "59.90"), "wh-6")
    assert rest.json()["applied"] is True, rest.text
    assert owed(pilot) == []
    assert (pilot.cases.get(case_id).state, pilot.cases.get(case_id).refunded) == (
        "refunded", 3990)


def test_a_cancellation_shopify_refunded_in_full_redoes_a_failed_refund(shop):  # noqa: F811
    pilot, http, _ = shop
    # Given a paid order whose refund of one tin (¥39.90) failed at the gateway
    send(http, "orders/create", shopify_order(TEA, financial_status="paid"), "wh-1")
    pending = shopify_refund(TEA, status="pending", transaction_id=FAILING)
    assert send(http, "refunds/create", pending, "wh-2").status_code == 200
    assert failure(http, "39.90").json()["applied"] is True
    # When the merchant cancels the order in Shopify, refunding everything it held
    send(http, "orders/cancelled", shopify_order(TEA, financial_status="refunded",
                                                 cancelled_at=CANCELLED_AT), "wh-4")
    # Then the failed refund is redone by that money: settled, nothing owed (before: the
    # ¥89.80 counted toward it in the list, but it stayed asked for, pending, for ever)
    assert owed(pilot) == []
    assert ("refund", "pending", "shopify", 3990) not in operations(pilot), operations(pilot)
    assert pilot.orders.get("o-1").state == "cancelled"
