"""Waybill numbers of the default (simulated) carrier adapter come from the store's counter
(fe4847d). Its numbers are the carrier's name in capitals and a count (SF-0000001), so two
carriers whose names differ only in case — "SF" and "sf" — write the same numbers: each must
count in the one number space they share, or the two hand out the same waybill (a push that
names no carrier then finds the newer parcel: records.carrier_of_tracking)."""

from __future__ import annotations

import pytest

from tests.integration.races.conftest import TRIALS


@pytest.mark.parametrize("trials", TRIALS[:1])
def test_carriers_whose_names_differ_in_case_never_hand_out_the_same_number(race, trials):
    race.open()
    handed_out: list[str] = []
    for trial in range(trials // 10):
        # When two processes buy waybills at the same moment, one from "SF", one from "sf"
        upper, lower = race.run(("buy_waybills", {"carrier": "SF", "count": 10}),
                                ("buy_waybills", {"carrier": "sf", "count": 10}))
        assert upper.ok and lower.ok, (trial, upper, lower)
        # Then every number is new: none of the other's, none of an earlier trial's
        numbers = upper.result + lower.result
        assert all(n.startswith("SF-") for n in numbers), numbers
        assert len(set(numbers + handed_out)) == len(numbers) + len(handed_out), (
            trial, sorted(set(numbers) & set(handed_out)) or numbers)
        handed_out += numbers


def test_one_carrier_in_two_processes_counts_on_from_both(race):
    race.open()
    # When two processes buy waybills of one carrier at the same moment
    first, second = race.run(("buy_waybills", {"carrier": "sim-express", "count": 10}),
                             ("buy_waybills", {"carrier": "sim-express", "count": 10}))
    # Then the 20 numbers are the first 20 of its count, each once
    assert sorted(first.result + second.result) == [f"SIM-EXPRESS-{n:07d}"
                                                    for n in range(1, 21)]
