"""Carrier KPI rates from their counts (statemachine/carrier_kpi.py): each over its own
denominator, None when there is nothing to count."""

from __future__ import annotations

from statemachine.carrier_kpi import KpiCounts


def test_each_rate_is_over_its_own_denominator():
    counts = KpiCounts(parcels=10, due=8, on_time=6, ended=8, lost=1, delivered=7, damaged=2,
                       stalled=3)
    assert (counts.on_time_rate, counts.loss_rate, counts.complaint_rate, counts.stall_rate) == (
        6 / 8, 1 / 8, 2 / 7, 3 / 10)


def test_a_carrier_with_nothing_due_yet_has_no_rate_rather_than_zero():
    on_its_way = KpiCounts(parcels=3)
    assert (on_its_way.on_time_rate, on_its_way.loss_rate, on_its_way.complaint_rate,
            on_its_way.stall_rate) == (None, None, None, 0.0)


def test_counts_under_two_spellings_of_one_carrier_add_up():
    assert KpiCounts(2, 2, 1, 2, 1, 1, 0, 0) + KpiCounts(3, 1, 1, 1, 0, 1, 1, 1) == KpiCounts(
        5, 3, 2, 3, 1, 2, 1, 1)
