"""Shopify's money given back reaching two API processes at the same moment: a refund and its
transaction's settlement, one settlement under two webhook ids (two subscriptions), and a
shipping-only refund beside the cancellation that refunds everything; and late money (paid
for an order that expired here) told by three webhooks at once. Whatever the order of
commits, the ledger books each sum once and never more than Shopify took."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from integrations.db.records import PAYMENTS
from integrations.ingest.storefront import order_key, shopify_webhook
from tests.integration.connect.providers import (
    SHOP,
    shopify_order,
    shopify_refund,
    shopify_transaction,
)
from tests.integration.races.conftest import TRIALS
from tests.integration.races.shop import HOLD_LAPSED, late_refunds, start_trial

CANCELLED_AT = "2026-11-11T10:00:00+08:00"


def paid_shopify_order(race, pilot, trial: int) -> tuple[int, str]:
    """A Shopify order paid at checkout (¥79.80 of goods, ¥89.80 booked with shipping)."""
    start_trial(race, trial)
    sku, shopify_id = f"SKU-{trial}", 8_000_000 + trial
    pilot.inventory.receive(sku=sku, warehouse="WH-HZ", quantity=5)
    created = shopify_webhook(pilot.context, "orders/create", f"c-{trial}", SHOP,
                              shopify_order(shopify_id, skus=(sku,), financial_status="paid"))
    assert created.body["applied"] is True, created.body
    with pilot.context.tx(readonly=True) as tx:
        return shopify_id, f"o-{tx.store.inbox_get(order_key(SHOP, shopify_id))['target']}"


def refunds_booked(pilot, order_id: str) -> list[int]:
    with pilot.context.tx(readonly=True) as tx:
        return [r.amount for r in tx.connection.execute(
            select(PAYMENTS).where(PAYMENTS.c.order_id == int(order_id[2:]),
                                   PAYMENTS.c.kind == "refund").order_by(PAYMENTS.c.id))]


def hook(topic: str, webhook_id: str, payload: dict) -> tuple[str, dict]:
    return ("shopify", {"topic": topic, "webhook_id": webhook_id, "payload": payload})


@pytest.mark.parametrize("trials", TRIALS)
def test_a_refund_and_its_settlement_at_once_book_it_once(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given a paid Shopify order, refunded one tin of tea (¥39.90), and a second refund
        # whose transaction was pending when it arrived
        shopify_id, order_id = paid_shopify_order(race, pilot, trial)
        refund, tx_id = 600_000_000 + 2 * trial, 700_000_000 + 2 * trial
        pending = shopify_refund(shopify_id, refund_id=refund + 1, transaction_id=tx_id + 1,
                                 status="pending")
        assert shopify_webhook(pilot.context, "refunds/create", f"p-{trial}", SHOP,
                               pending).body["applied"] is False
        # When the first refund and its settlement arrive at the same moment, and the second
        # one's settlement under two webhook ids at the same moment
        outcomes = race.run(
            hook("refunds/create", f"r-{trial}", shopify_refund(
                shopify_id, refund_id=refund, transaction_id=tx_id)),
            hook("order_transactions/create", f"t-{trial}", shopify_transaction(
                shopify_id, tx_id)),
            hook("order_transactions/create", f"s1-{trial}", shopify_transaction(
                shopify_id, tx_id + 1)),
            hook("order_transactions/create", f"s2-{trial}", shopify_transaction(
                shopify_id, tx_id + 1)))
        assert all(o.ok for o in outcomes), (trial, outcomes)
        # Then each tin's money is booked once, and the order refunded both tins, once each
        assert refunds_booked(pilot, order_id) == [3990, 3990], (trial, outcomes)
        assert pilot.orders.get(order_id).refunded == 7980, (trial, outcomes)
        race.check([order_id])


@pytest.mark.parametrize("trials", TRIALS)
def test_a_shipping_refund_beside_a_cancellation_never_books_more_than_was_taken(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given a paid Shopify order (¥89.80 booked with shipping)
        shopify_id, order_id = paid_shopify_order(race, pilot, trial)
        # When the shipping is refunded (¥10.00, no goods) as the admin cancels the order
        # refunding everything
        outcomes = race.run(
            hook("refunds/create", f"r-{trial}", shopify_refund(
                shopify_id, subtotal="0.00", quantity=0, shipping="10.00",
                refund_id=600_000_000 + trial)),
            hook("orders/cancelled", f"x-{trial}", shopify_order(
                shopify_id, skus=(f"SKU-{trial}",), financial_status="refunded",
                cancelled_at=CANCELLED_AT, cancel_reason="customer")))
        assert all(o.ok for o in outcomes), (trial, outcomes)
        # Then the ledger gives back ¥89.80 in all, never more
        assert sum(refunds_booked(pilot, order_id)) == 8980, (trial, outcomes)
        race.check([order_id])


@pytest.mark.parametrize("trials", TRIALS)
def test_late_money_told_by_three_webhooks_at_once_is_booked_and_owed_once(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given a Shopify order whose hold lapsed here unpaid
        start_trial(race, trial)
        sku, shopify_id = f"SKU-{trial}", 8_000_000 + trial
        pilot.inventory.receive(sku=sku, warehouse="WH-HZ", quantity=5)
        shopify_webhook(pilot.context, "orders/create", f"c-{trial}", SHOP,
                        shopify_order(shopify_id, skus=(sku,)))
        race.at(race.now() + HOLD_LAPSED)
        assert pilot.sweep(race.now())["hold_expiry"] >= 1
        with pilot.context.tx(readonly=True) as tx:
            order_id = f"o-{tx.store.inbox_get(order_key(SHOP, shopify_id))['target']}"
        # When Shopify's orders/paid comes under two webhook ids and its orders/updated
        # (paid) at the same moment
        paid = shopify_order(shopify_id, skus=(sku,), financial_status="paid")
        outcomes = race.run(hook("orders/paid", f"p1-{trial}", paid),
                            hook("orders/paid", f"p2-{trial}", paid),
                            hook("orders/updated", f"u-{trial}", paid))
        # Then the money is in the ledger once, owed back once
        assert all(o.ok for o in outcomes), (trial, outcomes)
        with pilot.context.tx(readonly=True) as tx:
            taken = [(r.kind, r.amount) for r in tx.connection.execute(
                select(PAYMENTS).where(PAYMENTS.c.order_id == int(order_id[2:])))]
        assert taken == [("late_capture", 8980)], (trial, outcomes)
        assert late_refunds(pilot, order_id) == {
            f"late-refund:shopify:shopify:{shopify_id}": ("pending", 8980)}, (trial, outcomes)
        race.check([order_id])
