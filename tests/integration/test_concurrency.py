"""N buyers in N processes race for S units of one sku: exactly min(N, S) orders succeed."""

from __future__ import annotations

import multiprocessing as mp

import pytest

from orderpilot import OrderPilot
from statemachine.risk_port import approve_everything
from tests.factories import order_request, stock
from tests.integration.race import pay_with_key, place_one

BUYERS, UNITS = 8, 5


@pytest.mark.slow
def test_racing_processes_never_oversell(any_url):
    # Given one sku with 5 units, split over two warehouses, in a migrated store
    pilot = OrderPilot(any_url, risk_check=approve_everything)
    stock(pilot, warehouse="WH-1", quantity=3)
    stock(pilot, warehouse="WH-2", quantity=2)
    # When 8 processes place an order for one unit at the same moment
    ctx = mp.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    workers = [ctx.Process(target=place_one, args=(any_url, n, start, results))
               for n in range(BUYERS)]
    for w in workers:
        w.start()
    start.set()
    outcomes = sorted(results.get(timeout=120) for _ in workers)
    for w in workers:
        w.join(timeout=60)
    # Then exactly 5 succeed, 3 are told it sold out, and the stock adds up
    assert outcomes == ["ok"] * UNITS + ["sold out"] * (BUYERS - UNITS)
    levels = pilot.inventory.levels()
    assert sum(lv.reserved for lv in levels) == UNITS
    assert all(lv.reserved == lv.on_hand for lv in levels)
    assert pilot.inventory.reconcile() == []
    pilot.close()


@pytest.mark.slow
def test_the_same_keyed_payment_from_racing_processes_applies_once(any_url):
    # Given an order awaiting payment
    pilot = OrderPilot(any_url, risk_check=approve_everything)
    stock(pilot)
    order = pilot.orders.place(**order_request())
    # When the gateway's webhook arrives four times at once (same event id)
    ctx = mp.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    workers = [ctx.Process(target=pay_with_key, args=(any_url, order.id, order.total, start,
                                                      results)) for _ in range(4)]
    for w in workers:
        w.start()
    start.set()
    outcomes = [results.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=60)
    # Then every caller sees the order paid, and it was paid exactly once
    assert outcomes == ["paid"] * 4
    assert [h.trigger for h in pilot.orders.history(order.id)].count("pay") == 1
    pilot.close()
