"""One buyer's orders placed at the same moment (parallel checkouts, a script): the velocity
rule counts each of them, as it counts orders placed one after another."""

from __future__ import annotations

import pytest

from tests.integration.races.actions import ADDRESS
from tests.integration.races.conftest import TRIALS
from tests.integration.races.shop import line, start_trial

EARLIER = 2  # orders the buyer placed earlier in the hour


@pytest.mark.parametrize("trials", TRIALS)
def test_parallel_orders_of_one_buyer_are_all_counted_by_the_velocity_rule(race, trials):
    pilot = race.open(risk="by_rules")
    for trial in range(trials):
        # Given a buyer with two orders this hour (the rule: more than 5 an hour → verify)
        start_trial(race, trial)
        buyer = f"b-fast-{trial}"
        skus = [f"SKU-{trial}-{n}" for n in range(EARLIER + race.pool.size)]
        for sku in skus:
            pilot.inventory.receive(sku=sku, warehouse="WH-HZ", quantity=5)
        for sku in skus[:EARLIER]:
            pilot.orders.place(buyer_id=buyer, lines=[line(sku)], shipping_address=ADDRESS,
                               device_id=f"d-{buyer}")
        # When the buyer places four more at the same moment, one sku each
        outcomes = race.run(*[("place_state", {"buyer": buyer, "lines": [line(sku)]})
                              for sku in skus[EARLIER:]])
        # Then the sixth order of the hour is sent to verification, as it would be one by one
        assert all(o.ok for o in outcomes), (trial, outcomes)
        states = sorted(o.result for o in outcomes)
        assert states == ["awaiting_payment"] * 3 + ["verifying"], (trial, states)
        race.check([])
