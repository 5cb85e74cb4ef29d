"""One Shopify Payments chargeback told to two API processes at the same moment: its
disputes/create, and its disputes/update `lost` under two webhook ids (two subscriptions), and
its create again. Whatever the order of commits, the order has one dispute, lost, and the
chargeback is booked once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from integrations.db.dispute_store import DisputeStore
from integrations.db.records import PAYMENTS
from tests.integration.connect.test_shopify_disputes import shopify_dispute
from tests.integration.races.conftest import TRIALS
from tests.integration.races.test_shopify_money_races import hook, paid_shopify_order


def chargebacks(pilot, order_id: str) -> list[int]:
    with pilot.context.tx(readonly=True) as tx:
        return [r.amount for r in tx.connection.execute(
            select(PAYMENTS).where(PAYMENTS.c.order_id == int(order_id[2:]),
                                   PAYMENTS.c.kind == "chargeback"))]


@pytest.mark.parametrize("trials", TRIALS)
def test_a_chargeback_told_at_once_by_several_webhooks_is_opened_and_booked_once(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given a paid Shopify order (¥79.80 of goods)
        shopify_id, order_id = paid_shopify_order(race, pilot, trial)
        opened = shopify_dispute(shopify_id, id=900_000 + trial)
        lost = shopify_dispute(shopify_id, status="lost", id=900_000 + trial)
        # When its dispute's create, its loss under two webhook ids, and its create again
        # arrive at the same moment
        outcomes = race.run(hook("disputes/create", f"d1-{trial}", opened),
                            hook("disputes/update", f"d2-{trial}", lost),
                            hook("disputes/update", f"d3-{trial}", lost),
                            hook("disputes/create", f"d4-{trial}", opened))
        assert all(o.ok for o in outcomes), (trial, outcomes)
        # Then one dispute, lost, its chargeback booked once on the order
        with pilot.context.tx(readonly=True) as tx:
            found = DisputeStore(tx.store.sql).of_order(int(order_id[2:]))
        assert [d.state for d in found] == ["lost"], (trial, outcomes)
        assert chargebacks(pilot, order_id) == [7980], (trial, outcomes)
        assert pilot.orders.get(order_id).refunded == 7980, (trial, outcomes)
        race.check([order_id])
