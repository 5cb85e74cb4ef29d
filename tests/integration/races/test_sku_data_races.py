"""Two people (or two KPI runs) setting the same sku data at the same moment: both succeed and
one value stands. Each was a DELETE then an INSERT, and on PostgreSQL the second INSERT hit
the key: a raw UniqueViolation reached the caller."""

from __future__ import annotations

import pytest

from integrations.db import carrier_store
from tests.integration.races.conftest import TRIALS
from tests.integration.races.shop import in_transit

QUERIES = {"weight": "SELECT weight_g FROM sku_specs WHERE sku = :s",
           "flag": "SELECT note FROM sku_flags WHERE sku = :s AND flag = 'high_value'",
           "location": "SELECT location FROM bin_locations WHERE sku = :s AND warehouse = 'WH-1'"}


def stored(pilot, what: str, sku: str) -> list:
    with pilot.context.tx(readonly=True) as tx:
        return [r[0] for r in tx.store.sql.all(QUERIES[what], {"s": sku})]


@pytest.mark.parametrize("trials", TRIALS)
@pytest.mark.parametrize(("what", "values"), [
    ("weight", [500, 520, 540, 560]), ("flag", ["贵重", "易碎", "高退货", "易混"]),
    ("location", ["A-01-1", "A-01-2", "B-02-1", "B-02-2"])])
def test_setting_one_skus_data_at_once_from_every_desk(race, trials, what, values):
    pilot = race.open()
    for trial in range(trials):
        sku = f"SKU-{trial}"
        outcomes = race.run(*[("set_sku_data", {"what": what, "sku": sku, "value": v})
                              for v in values[:race.pool.size]])
        assert all(o.ok for o in outcomes), (trial, outcomes)
        [found] = stored(pilot, what, sku)  # one row, with one of the values set
        assert found in values, (trial, found)


@pytest.mark.parametrize("trials", [20])
def test_two_carrier_kpi_runs_at_once_both_succeed(race, trials):
    pilot = race.open()
    in_transit(pilot, 0)  # a parcel with a carrier: the KPI job has a row to write
    for trial in range(trials):
        outcomes = race.run(*[("set_sku_data", {"what": "kpis", "sku": "", "value": None})
                              for _ in range(race.pool.size)])
        assert all(o.ok for o in outcomes), (trial, outcomes)
        with pilot.context.tx(readonly=True) as tx:
            assert len(carrier_store.stored_kpis(tx.store.sql)) == 1, trial
