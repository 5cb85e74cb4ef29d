"""Staff removing a webhook subscription while the relay hands new events to it."""

from __future__ import annotations

import pytest

from integrations.service import webhooks
from tests.integration.races.conftest import TRIALS
from tests.integration.races.shop import awaiting_payment, start_trial


@pytest.mark.parametrize("trials", TRIALS)
def test_removing_a_subscription_while_the_relay_fans_out(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given a subscription and new events for it, not handed out yet
        start_trial(race, trial)
        sub = webhooks.subscribe(pilot.context, {"url": "https://shop.example.com/hooks"},
                                 "staff:amy")
        awaiting_payment(pilot, trial)
        # When the relay fans out as staff remove the subscription
        fanned, removed = race.run(("fan_out", {}), ("unsubscribe", {"subscription_id": sub.id}))
        # Then both succeed and nothing of the subscription is left
        assert fanned.ok and removed.ok, (trial, fanned, removed)
        assert sub.id not in [s.id for s in webhooks.subscriptions(pilot.context)], trial
        with pilot.context.tx(readonly=True) as tx:
            left = tx.store.sql.one("SELECT count(*) FROM webhook_deliveries WHERE "
                                    "subscription_id = :s", {"s": int(sub.id.split("-")[1])})
        assert left[0] == 0, trial
