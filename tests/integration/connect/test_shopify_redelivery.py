"""Every Shopify topic delivered again under another webhook id (a second subscription, a
resend, Shopify's own retry after a timeout it did not see answered) changes nothing: each is
idempotent by its resource's own identity or state, not only by X-Shopify-Webhook-Id."""

from __future__ import annotations

import pytest

from tests.integration.connect.providers import (
    shopify_order,
    shopify_refund,
    shopify_transaction,
)
from tests.integration.connect.shopify_http import CANCELLED_AT, ledger, send
from tests.integration.integ.server import row_counts

LOGS = ("webhook_events", "inbox")  # each delivery is logged under its own webhook id
UNPAID, PAID = shopify_order(1), shopify_order(1, financial_status="paid")
REFUNDED = shopify_order(1, financial_status="refunded", cancelled_at=CANCELLED_AT)
LATER = shopify_order(1, financial_status="paid", cancelled_at=CANCELLED_AT)
ONE_TIN = shopify_refund(1)
SHIPPING_ONLY = shopify_refund(1, subtotal="0.00", quantity=0, shipping="10.00")
PENDING = shopify_refund(1, status="pending")

# (what came before, the topic delivered twice, its body)
CASES = {
    "orders/create paid at checkout": ([], "orders/create", PAID),
    "orders/paid": ([("orders/create", UNPAID)], "orders/paid", PAID),
    "orders/paid carrying cancelled_at": ([("orders/create", UNPAID)], "orders/paid", REFUNDED),
    "orders/cancelled, refunded": ([("orders/create", PAID)], "orders/cancelled", REFUNDED),
    "orders/cancelled, refund later": ([("orders/create", PAID)], "orders/cancelled", LATER),
    "orders/cancelled before the order": ([], "orders/cancelled", REFUNDED),
    "orders/updated, paid": ([("orders/create", UNPAID)], "orders/updated", PAID),
    "orders/updated, cancelled": ([("orders/create", PAID)], "orders/updated", LATER),
    "refunds/create": ([("orders/create", PAID)], "refunds/create", ONE_TIN),
    "refunds/create, shipping only": ([("orders/create", PAID)], "refunds/create",
                                      SHIPPING_ONLY),
    "refunds/create of a refund left for later": (
        [("orders/create", PAID), ("orders/cancelled", LATER)], "refunds/create", ONE_TIN),
    "order_transactions/create settling a pending refund": (
        [("orders/create", PAID), ("refunds/create", PENDING)], "order_transactions/create",
        shopify_transaction(1)),
    "order_transactions/create before its refund": (
        [("orders/create", PAID)], "order_transactions/create", shopify_transaction(1)),
}


def books(pilot) -> tuple[dict[str, int], list, list]:
    """What a delivery may change: every table but the delivery logs, the ledger, the order."""
    counts = {t: n for t, n in row_counts(pilot).items() if t not in LOGS}
    orders = [(o.state, o.paid, o.refunded) for o in (
        pilot.orders.get(f"o-{n}") for n in range(1, counts["orders"] + 1))]
    return counts, ledger(pilot), orders


@pytest.mark.parametrize("case", CASES)
def test_a_delivery_again_under_another_webhook_id_changes_nothing(storefront, case):
    # Given what Shopify sent before, and the delivery applied once
    pilot, http = storefront
    before, topic, body = CASES[case]
    for n, (earlier, payload) in enumerate(before):
        assert send(http, earlier, payload, f"wh-before-{n}").status_code == 200
    first = send(http, topic, body, "wh-first")
    assert first.status_code == 200, first.text
    once = books(pilot)
    # When the same event comes again under another webhook id
    again = send(http, topic, body, "wh-again")
    # Then it is answered 200, not applied, and nothing more is booked, fired or held
    assert again.status_code == 200, again.text
    assert again.json()["applied"] is False and again.json()["duplicate"] is False, again.text
    assert books(pilot) == once
