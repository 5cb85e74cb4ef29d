"""A sweep batch that releases stock for more than one kind of timer — lapsed holds, then
payments that did not settle in time — takes the inventory rows of the orders it took in
(sku, warehouse) order before its first release, as one step does: released kind by kind, each
kind's rows sorted on their own, its second pass locked a row ordered before one its first
pass had taken, and a placement holding that row while it waited for the other closed a
circle."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.races.actions import ADDRESS
from tests.integration.races.conftest import Race
from tests.integration.races.shop import PAYMENT_DUE_PASSED, line, start_trial

# PostgreSQL: SQLite's writers take turns; ~1 min (a pool of processes)
pytestmark = [pytest.mark.postgres, pytest.mark.slow]

TRIALS = 3
WAREHOUSE = "WH-1"


@pytest.fixture
def pg_race(race_pool, postgres_url: str) -> Iterator[Race]:
    r = Race(race_pool, postgres_url)
    yield r
    r.close()


def test_a_sweep_releasing_two_kinds_of_lapsed_orders_and_a_placement_never_deadlock(pg_race):
    race = pg_race
    pilot = race.open()
    for trial in range(TRIALS):
        # Given a cup order waiting for a payment that never settled and a bowl order that was
        # never paid, both past their deadlines (the bowl's hold lapsed first)
        start_trial(race, trial)
        bowl, cup = f"SKU-{trial}-BOWL", f"SKU-{trial}-CUP"
        for sku in (bowl, cup):
            pilot.inventory.receive(sku=sku, warehouse=WAREHOUSE, quantity=3)
        unpaid = pilot.orders.place(buyer_id=f"b-{trial}-u", lines=[line(cup)],
                                    shipping_address=ADDRESS, device_id=f"d-{trial}-u")
        pending = pilot.orders.place(buyer_id=f"b-{trial}-p", lines=[line(bowl)],
                                     shipping_address=ADDRESS, device_id=f"d-{trial}-p")
        pilot.orders.fire(pending.id, "start_payment", amount=pending.total,
                          payment_ref=f"boleto-{trial}")
        race.at(race.now() + PAYMENT_DUE_PASSED)
        # When the sweep expires both — the cup's hold first, then the bowl's payment — while
        # a payment holds the cup's row and, once the sweep waits for it, a buyer orders a
        # bowl and a cup (bowl first, by sku)
        held, sweep, placement = race.run(
            ("hold_inventory_until", {"sku": cup, "warehouse": WAREHOUSE, "waiting": 2}),
            ("sweep_when_held", {}),
            ("place_when_waiting", {"buyer": f"b-{trial}-n", "waiting": 1,
                                    "lines": [line(bowl), line(cup)]}))
        # Then everything goes through
        assert held.ok and sweep.ok and placement.ok, (trial, held, sweep, placement)
        # (the hold of the previous trial's placement lapsed meanwhile: the sweep expires it too)
        assert sweep.result.get("payment_due") == 1 and sweep.result.get("hold_expiry"), \
            (trial, sweep)
        assert [pilot.orders.get(o.id).state for o in (unpaid, pending)] == ["expired"] * 2
        race.check([unpaid.id, pending.id, placement.result])
    # and nobody waited on another in a circle
    assert race.deadlocks() == 0
