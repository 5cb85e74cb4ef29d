"""Pick waves: grouping paid orders per warehouse, releasing them to picking, pick lists."""

from __future__ import annotations

import csv
import io

import pytest

from statemachine.errors import GuardRejected, InvalidInput, NotFound
from tests.factories import paid_order, placed_order, stock


def test_a_wave_takes_express_orders_first_then_the_longest_paid_up_to_its_size(shop, clock):
    # Given three paid standard orders and one express order paid last, all in WH-A
    stock(shop, "SKU-1", "WH-A", 50)
    standard = []
    for n in range(3):
        standard.append(paid_order(shop, buyer=f"b-{n}", quantity=1).id)
        clock.advance(minutes=5)
    express = paid_order(shop, buyer="b-9", quantity=1, service="express").id
    # When a wave of three is created
    wave = shop.waves.create(warehouse="WH-A", size=3, actor="lead-1")
    # Then the express order leads and the last-paid standard order waits for the next wave
    assert wave["orders"] == [express, standard[0], standard[1]]
    assert (wave["state"], wave["created_by"], wave["carrier"]) == ("open", "lead-1",
                                                                    "sim-express")
    assert wave["cutoff_at"].hour == 17  # the carrier's cut-off, later the same day
    assert shop.waves.create(warehouse="WH-A")["orders"] == [standard[2]]
    assert shop.waves.create(warehouse="WH-A") is None


def test_releasing_a_wave_starts_picking_and_skips_orders_that_moved_on(shop):
    # Given a wave of two paid orders, one of which the buyer cancels before release
    stock(shop, "SKU-1", "WH-A", 10)
    keep, gone = paid_order(shop, buyer="b-1").id, paid_order(shop, buyer="b-2").id
    wave = shop.waves.create(warehouse="WH-A")
    shop.orders.fire(gone, "cancel", reason="changed my mind")
    # When the wave is released
    outcomes = shop.waves.release(wave["id"], actor="lead-2")
    # Then the kept order is picking, with the wave and the releaser in its history
    assert outcomes == {keep: "picking", gone: "skipped: order is cancelled"}
    assert shop.orders.get(keep).state == "picking"
    start = [h for h in shop.orders.history(keep) if h.trigger == "start_picking"][0]
    assert (start.actor, start.payload) == ("lead-2", {"wave": wave["id"]})
    assert shop.waves.get(wave["id"])["state"] == "released"
    with pytest.raises(GuardRejected, match="already released by lead-2"):
        shop.waves.release(wave["id"])


def test_unpaid_orders_and_other_warehouses_stay_out_of_a_wave(shop):
    stock(shop, "SKU-1", "WH-A", 5)
    stock(shop, "SKU-2", "WH-B", 5)
    placed_order(shop, buyer="b-1")  # awaiting payment
    in_b = paid_order(shop, buyer="b-2", sku="SKU-2").id
    assert shop.waves.create(warehouse="WH-A") is None
    assert shop.waves.create(warehouse="WH-B")["orders"] == [in_b]


def test_the_pick_list_sums_units_per_sku_and_bin_in_walking_order(shop):
    # Given two skus with bin locations and three orders
    stock(shop, "SKU-1", "WH-A", 20)
    stock(shop, "SKU-2", "WH-A", 20)
    shop.fulfilment.locate("SKU-1", "WH-A", "B-07-2")
    shop.fulfilment.locate("SKU-2", "WH-A", "A-01-1")
    first = paid_order(shop, buyer="b-1", sku="SKU-1", quantity=2).id
    second = paid_order(shop, buyer="b-2", sku="SKU-1", quantity=3).id
    third = paid_order(shop, buyer="b-3", sku="SKU-2", quantity=1).id
    wave = shop.waves.create(warehouse="WH-A")
    # When the pick list is printed
    rows = list(csv.DictReader(io.StringIO(shop.waves.pick_list(wave["id"], fmt="csv"))))
    markdown = shop.waves.pick_list(wave["id"], fmt="markdown")
    # Then it lists each sku once, aisle A before aisle B, with the orders it serves
    assert rows == [
        {"sku": "SKU-2", "location": "A-01-1", "quantity": "1", "orders": third},
        {"sku": "SKU-1", "location": "B-07-2", "quantity": "5", "orders": f"{first} {second}"}]
    assert f"| SKU-1 | B-07-2 | 5 | {first}, {second} |" in markdown


def test_bad_wave_input_is_refused_naming_the_field(shop):
    with pytest.raises(InvalidInput, match="size"):
        shop.waves.create(warehouse="WH-A", size=0)
    with pytest.raises(InvalidInput, match="warehouse"):
        shop.waves.create(warehouse="WH A!")
    with pytest.raises(InvalidInput, match="fmt"):
        shop.waves.pick_list("w-1", fmt="pdf")
    with pytest.raises(NotFound, match="wave w-42"):
        shop.waves.release("w-42")
    assert shop.waves.list() == []
