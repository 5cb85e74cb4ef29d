"""Waybill numbers of the default (simulated) carrier adapter come from the store's counter
(fe4847d). Its numbers are the carrier's name in capitals and a count (SF-0000001), so two
carriers whose names differ only in case — "SF" and "sf" — write the same numbers: each must
count in the one number space they share, or the two hand out the same waybill (a push that
names no carrier then finds the newer parcel: records.carrier_of_tracking)."""

from __future__ import annotations

import pytest

from tests.integration.races.conftest import TRIALS
from tests.integration.races.shop import paid, start_trial


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


SHIPS = 5  # per process and trial


def packed_orders(pilot, trial: int, count: int) -> list[str]:
    orders = []
    for n in range(count):
        order = paid(pilot, trial * 100 + n)
        for trigger in ("start_picking", "pack"):
            pilot.orders.fire(order.id, trigger)
        orders.append(order.id)
    return orders


def counter(pilot, prefix: str) -> int:
    with pilot.context.tx(readonly=True) as tx:
        row = tx.store.sql.one("SELECT last_no FROM waybill_counters WHERE prefix = :p",
                               {"p": prefix})
    return 0 if row is None else int(row[0])


@pytest.mark.parametrize("trials", TRIALS[:1])
def test_typed_numbers_the_adapter_hands_out_next_never_make_two_parcels_share_one(race, trials):
    pilot = race.open()
    handed_out: list[str] = []
    stored: list[str] = []
    for trial in range(trials // 10):
        # Given packed orders, and the numbers the sim-express adapter would hand out next
        start_trial(race, trial)
        orders = packed_orders(pilot, trial, 2 * SHIPS)
        upcoming = counter(pilot, "SIM-EXPRESS")
        typed = [f"SIM-EXPRESS-{upcoming + n:07d}" for n in range(1, SHIPS + 1)]
        # When a lead ships half of them under those numbers, typed, while a dispatcher ships
        # the other half with labels bought from the adapter (two processes, at once)
        lead, dispatch = race.run(
            ("ship_typed", {"order_ids": orders[:SHIPS], "carrier": "sim-express",
                            "numbers": typed}),
            ("ship_numbered", {"order_ids": orders[SHIPS:], "carrier": "sim-express"}))
        ships = lead.result + dispatch.result["ships"]
        # Then a ship refused is refused as one open parcel per waybill, and nothing of it is
        # written; every ship acknowledged is stored under its number
        assert {code for _, _, code in ships} <= {None, "invalid_input"}, (trial, ships)
        for order_id, number, code in ships:
            parcels = [p.tracking_no for p in pilot.shipments.of_order(order_id)]
            assert parcels == ([] if code else [number]), (trial, order_id, code, parcels)
            assert pilot.orders.get(order_id).state == ("packed" if code else "shipped")
        # And the adapter never handed a number out twice, nor do two parcels share one
        handed_out += dispatch.result["handed_out"]
        assert len(set(handed_out)) == len(handed_out), (trial, handed_out)
        stored += [number for _, number, code in ships if code is None]
        assert len(set(stored)) == len(stored), (trial, ships)
        # And the adapter numbers on past every stored number of its prefix
        assert counter(pilot, "SIM-EXPRESS") >= max(int(n[-7:]) for n in stored), trial
        race.check(orders)


BATCH = 4  # ships per batch


@pytest.mark.parametrize("trials", TRIALS[:1])
def test_two_batches_naming_the_same_waybills_in_opposite_order_never_deadlock(race, trials):
    """A batch of ships takes every waybill's turn at once, sorted (service/waybills.py
    take_turns): taken ship by ship, in the batch's order, two imports naming the same
    numbers in opposite order each held the first and waited for the other's last, and
    PostgreSQL aborted one (re-run: no caller saw it, but every trial paid a deadlock)."""
    pilot = race.open()
    for trial in range(trials // 10):
        # Given packed orders, and waybill numbers two imports both name
        start_trial(race, trial)
        orders = packed_orders(pilot, trial, 2 * BATCH)
        numbers = [f"SIM-EXPRESS-{9_000_000 + trial * 100 + n:07d}" for n in range(BATCH)]
        # When one ships half of the orders under them in ascending order and the other the
        # other half in descending order, at the same moment
        up, down = race.run(
            ("ship_batch", {"order_ids": orders[:BATCH], "carrier": "sim-express",
                            "numbers": numbers}),
            ("ship_batch", {"order_ids": orders[BATCH:], "carrier": "sim-express",
                            "numbers": numbers[::-1]}))
        # Then one batch ships, the other is refused whole (one open parcel per waybill)
        assert sorted([up.result, down.result], key=str) == [None, "invalid_input"], (
            trial, up, down)
        won = orders[:BATCH] if up.result is None else orders[BATCH:]
        stored = [p.tracking_no for o in orders for p in pilot.shipments.of_order(o)]
        assert sorted(stored) == numbers, (trial, stored)
        assert {pilot.orders.get(o).state for o in won} == {"shipped"}, trial
        race.check(orders)
    # And no two of them ever waited on each other in a circle (PostgreSQL would have said so)
    deadlocks = race.deadlocks()
    print(f"\n{race.url.split(':')[0]}: {trials // 10} trials, {deadlocks} deadlocks")
    assert deadlocks in (None, 0), f"{deadlocks} deadlocks in {trials // 10} trials"
