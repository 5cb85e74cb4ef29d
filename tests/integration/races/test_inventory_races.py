"""Goods receipts of a sku new to a warehouse, booked at the same moment (two dock clerks, or a
receipt and a transfer to it): every unit is counted and no caller sees a raw error. Receiving
was an UPDATE then, finding no row, an INSERT: on PostgreSQL the second INSERT hit the
(sku, warehouse) key, a raw UniqueViolation, and that receipt was lost."""

from __future__ import annotations

import pytest

from tests.integration.races.conftest import TRIALS


@pytest.mark.parametrize("trials", TRIALS)
def test_receipts_of_a_new_sku_at_once_all_count(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given a sku the warehouse has never stocked
        sku, quantities = f"SKU-NEW-{trial}", [1, 2, 3, 4][:race.pool.size]
        # When every desk books a receipt of it at the same moment
        outcomes = race.run(*[("receive", {"sku": sku, "warehouse": "WH-HZ", "quantity": q})
                              for q in quantities])
        # Then each succeeds and the shelf holds every unit received
        assert all(o.ok for o in outcomes), (trial, outcomes)
        level = pilot.inventory.level(sku=sku, warehouse="WH-HZ")
        assert (level.on_hand, level.reserved) == (sum(quantities), 0), (trial, level)
        race.check([])
