"""Warehouse leads creating pick waves for one warehouse at the same moment: every lead gets a
wave or "nothing waits", and each paid order is in exactly one wave. It was a look-up of the
orders in no wave, then an INSERT of the members: on PostgreSQL two waves took the same orders
and the second INSERT hit (order_id, warehouse), a raw UniqueViolation."""

from __future__ import annotations

import pytest

from tests.integration.races.conftest import TRIALS
from tests.integration.races.shop import paid


@pytest.mark.parametrize("trials", TRIALS)
def test_leads_creating_waves_at_once_share_the_orders_out(race, trials):
    pilot = race.open()
    for trial in range(trials):
        orders = [paid(pilot, trial * 10 + n).id for n in range(3)]  # all in WH-0
        outcomes = race.run(*[("create_wave", {"warehouse": "WH-0", "by": f"lead-{n}"})
                              for n in range(race.pool.size)])
        assert all(o.ok for o in outcomes), (trial, outcomes)
        waves = [pilot.waves.get(o.result) for o in outcomes if o.result is not None]
        members = [o for w in waves for o in w["orders"]]
        assert sorted(members) == sorted(orders), (trial, waves)  # each once, none left out
