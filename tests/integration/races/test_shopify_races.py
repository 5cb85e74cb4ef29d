"""A Shopify order's orders/create and its cancellation (orders/cancelled, or orders/updated
with cancelled_at) reaching two API processes at the same moment (a create retried by Shopify
as the merchant cancels): the order never lives on here."""

from __future__ import annotations

import pytest

from integrations.ingest.storefront import order_key
from tests.integration.connect.providers import SHOP, shopify_order
from tests.integration.races.conftest import TRIALS
from tests.integration.races.shop import start_trial


@pytest.mark.parametrize("topic", ["orders/cancelled", "orders/updated"])
@pytest.mark.parametrize("trials", TRIALS)
def test_a_shopify_order_created_and_cancelled_at_once_is_never_left_live(race, trials, topic):
    pilot = race.open()
    for trial in range(trials):
        # Given stock for a Shopify order paid at checkout
        start_trial(race, trial)
        sku, shopify_id = f"SKU-{trial}", 7_000_000 + trial
        pilot.inventory.receive(sku=sku, warehouse="WH-HZ", quantity=5)
        created = shopify_order(shopify_id, skus=(sku,), financial_status="paid")
        cancelled = shopify_order(shopify_id, skus=(sku,), financial_status="refunded",
                                  cancelled_at="2026-11-11T10:00:00+08:00",
                                  cancel_reason="customer")
        # When its orders/create and its cancellation are applied at the same moment
        outcomes = race.run(("shopify", {"topic": "orders/create", "webhook_id": f"c-{trial}",
                                         "payload": created}),
                            ("shopify", {"topic": topic,
                                         "webhook_id": f"x-{trial}", "payload": cancelled}))
        assert all(o.ok for o in outcomes), (trial, outcomes)
        # Then the order was not placed, or was placed and cancelled: none is left to ship
        with pilot.context.tx(readonly=True) as tx:
            kept = tx.store.inbox_get(order_key(SHOP, shopify_id))
        if kept is not None:
            order = pilot.orders.get(f"o-{kept['target']}")
            assert order.state == "cancelled", (trial, order.state, outcomes)
        level = pilot.inventory.level(sku=sku, warehouse="WH-HZ")
        assert (level.on_hand, level.reserved) == (5, 0), (trial, level, outcomes)
        race.check([] if kept is None else [f"o-{kept['target']}"])
