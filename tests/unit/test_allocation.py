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
