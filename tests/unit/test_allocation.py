"""Allocation prefers one warehouse for the whole order, else splits, else refuses."""

import pytest

from statemachine.errors import InsufficientStock
from statemachine.stock import Allocation, Need, plan_allocation


def test_one_warehouse_that_can_serve_everything_is_preferred():
    available = {("A", "WH-1"): 5, ("B", "WH-1"): 0, ("A", "WH-2"): 3, ("B", "WH-2"): 3}
    plan = plan_allocation([Need(1, "A", 2), Need(2, "B", 1)], available)
    assert plan == [Allocation(1, "A", "WH-2", 2), Allocation(2, "B", "WH-2", 1)]


def test_when_no_single_warehouse_can_serve_the_order_it_is_split():
    available = {("A", "WH-1"): 2, ("A", "WH-2"): 3}
    plan = plan_allocation([Need(1, "A", 4)], available)
    assert sorted((a.warehouse, a.quantity) for a in plan) == [("WH-1", 1), ("WH-2", 3)]


def test_not_enough_stock_anywhere_is_refused_with_the_numbers():
    with pytest.raises(InsufficientStock, match="sku A: 6 requested, only 5 available"):
        plan_allocation([Need(1, "A", 6)], {("A", "WH-1"): 2, ("A", "WH-2"): 3})


def test_ties_are_broken_by_warehouse_name_so_plans_are_deterministic():
    available = {("A", "WH-2"): 5, ("A", "WH-1"): 5}
    assert plan_allocation([Need(1, "A", 1)], available)[0].warehouse == "WH-1"


# --- by distance to the buyer (region-aware allocation) ------------------------------------

from statemachine.stock import choose_allocation  # noqa: E402

KM = {"WH-HZ": 0.0, "WH-SH": 165.0, "WH-SZ": 1052.0}


def test_the_nearest_warehouse_that_can_serve_the_whole_order_wins_over_more_stock():
    # Given Shenzhen holds far more, Hangzhou (the buyer's city) enough
    available = {("A", "WH-SZ"): 500, ("A", "WH-HZ"): 3}
    choice = choose_allocation([Need(1, "A", 2)], available, KM)
    assert [a.warehouse for a in choice.allocations] == ["WH-HZ"]
    assert choice.reasons == ("whole order from WH-HZ (0 km)",) and not choice.transfer


def test_when_the_nearest_is_short_a_neighbour_ships_and_the_promise_grows():
    available = {("A", "WH-HZ"): 1, ("A", "WH-SH"): 0, ("A", "WH-SZ"): 9}
    choice = choose_allocation([Need(1, "A", 2)], available, KM, km_per_day=800)
    assert [a.warehouse for a in choice.allocations] == ["WH-SZ"]
    assert choice.transfer and choice.extra_days == 1
    assert choice.reasons[0] == "nearest warehouse WH-HZ (0 km) is short of A: neighbour transfer"
    assert choice.reasons[-1] == "promise +1 day(s) for 1052 km beyond WH-HZ"


def test_a_split_takes_from_the_nearest_warehouses_first():
    available = {("A", "WH-HZ"): 2, ("A", "WH-SH"): 2, ("A", "WH-SZ"): 3}
    choice = choose_allocation([Need(1, "A", 4)], available, KM)
    assert [(a.warehouse, a.quantity) for a in choice.allocations] == [
        ("WH-HZ", 2), ("WH-SH", 2)]
    assert "split over WH-HZ (0 km), WH-SH (165 km)" in choice.reasons[-1]


def test_without_the_buyers_region_the_choice_is_the_stock_based_one_and_says_so():
    available = {("A", "WH-SZ"): 500, ("A", "WH-HZ"): 3}
    choice = choose_allocation([Need(1, "A", 2)], available, {})
    assert [a.warehouse for a in choice.allocations] == ["WH-SZ"]
    assert choice.reasons == ("one warehouse: WH-SZ (no buyer region known)",)
