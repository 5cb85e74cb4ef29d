"""A bulk batch's ships select carriers as a single `ship` does, and what selection reads — the
division table, seconds to load once per process — is loaded before the batch's transaction
(`bulk.batch`), not under the write lock (on SQLite, the whole database's) as the batch's
first ship used to load it. A catalogue that cannot be used fails the batch, nothing written."""

from __future__ import annotations

import pytest

import integrations.fulfil_config as fulfil_config
from integrations.fulfil_config import CarrierSpec
from integrations.geo import region_fields, regions
from integrations.replay import bulk
from statemachine.errors import InvalidInput
from tests.factories import ADDRESS, paid_order, stock

from .conftest import make_pilot
from .test_carrier_regions_outside_the_lock import write_lock

HANGZHOU = {**ADDRESS, "street": "文三路18号", "city": "杭州市", "province": "浙江省",
            "recipient": "李雷", "phone": "+86 138 0013 8000"}


def packed_orders(shop, count: int) -> list[int]:
    stock(shop, "SKU-1", "WH-A", 10 * count)
    numbers = []
    for n in range(count):
        order = paid_order(shop, buyer=f"b-{n}", shipping_address=HANGZHOU)
        for trigger in ("start_picking", "pack"):
            shop.orders.fire(order.id, trigger)
        numbers.append(int(order.id[2:]))
    return numbers


def ships(clock, numbers: list[int]) -> list[bulk.Move]:
    return [bulk.Move(n, "ship", clock.now(), "shipper:王芳") for n in numbers]


@pytest.fixture
def a_new_process(monkeypatch):
    """The division table not loaded yet, and a probe at its load: could another connection
    take the write lock meanwhile?"""
    seen: list[str] = []
    path: list[str] = []
    loaded = regions.divisions

    def probe():
        seen.append(write_lock(path[0]))
        return loaded()

    def start(url: str) -> list[str]:
        path.append(url.removeprefix("sqlite:///"))
        region_fields.places_table.cache_clear()
        fulfil_config._first_unknown.cache_clear()
        monkeypatch.setattr(regions, "divisions", probe)
        return seen

    yield start
    region_fields.places_table.cache_clear()  # not built by the probe for later tests
    fulfil_config._first_unknown.cache_clear()


@pytest.mark.parametrize("hangzhou", ["杭州", "Hangzhou"])
def test_a_batch_of_ships_loads_the_division_table_before_taking_the_write_lock(
        sqlite_url, clock, a_new_process, hangzhou):
    # Given a carrier for 杭州 (in Chinese, or in Latin script: matched against the table too)
    # and two orders to 杭州 packed
    shop = make_pilot(sqlite_url, clock, carriers={
        "hz": CarrierSpec(regions=[hangzhou], transit_days=1, cost=500),
        "any": CarrierSpec(transit_days=2, cost=900)})
    numbers = packed_orders(shop, 2)
    seen = a_new_process(sqlite_url)
    # When a bulk batch ships both, in a process that has not selected a carrier yet
    moves = ships(clock, numbers)
    with bulk.batch(shop.context, moves) as tx:
        refused = bulk.fire_orders(shop.context, tx, moves)
    # Then the table was loaded once, with no write lock held: others could write meanwhile
    assert seen == ["free"]
    # And both shipped, with the carrier selection picked as a single ship picks it
    assert refused == []
    expected = "hz" if hangzhou == "杭州" else "any"  # a Latin name serves that name only
    for n in numbers:
        order = shop.orders.get(f"o-{n}")
        assert order.state == "shipped"
        assert [p.carrier for p in shop.shipments.of_order(order.id)] == [expected]
    shop.close()


def test_a_batch_with_no_ship_selecting_carriers_does_not_load_the_table(sqlite_url, clock,
                                                                        a_new_process):
    # Given a catalogue, and two packed orders whose labels were bought (parcels given)
    shop = make_pilot(sqlite_url, clock, carriers={"hz": CarrierSpec(regions=["杭州"])})
    numbers = packed_orders(shop, 2)
    seen = a_new_process(sqlite_url)
    moves = [bulk.Move(n, "ship", clock.now(), "shipper:王芳", {"parcels": [
        {"carrier": "sf", "tracking_no": f"SF{n:010d}", "warehouse": "WH-A"}]})
             for n in numbers]
    # When a batch ships them (a replay's ships give their parcels)
    with bulk.batch(shop.context, moves) as tx:
        assert bulk.fire_orders(shop.context, tx, moves) == []
    # Then the seconds of the table's load were not spent
    assert seen == []
    shop.close()


def test_a_batch_with_a_catalogue_naming_no_division_is_refused_with_nothing_written(
        any_url, clock):
    # Given a catalogue with a typo (杭洲) and a catch-all carrier, two orders packed
    shop = make_pilot(any_url, clock, carriers={
        "zj": CarrierSpec(regions=["杭洲"], transit_days=1, cost=500),
        "any": CarrierSpec(transit_days=2, cost=900)})
    numbers = packed_orders(shop, 2)
    moves = ships(clock, numbers)
    # When a bulk batch ships both
    with pytest.raises(InvalidInput) as refused, bulk.batch(shop.context, moves) as tx:
        bulk.fire_orders(shop.context, tx, moves)
    # Then it is refused naming the setting, the carrier and the value, as a single ship is
    assert "ORDERPILOT_FULFILMENT__CARRIERS" in refused.value.problems
    assert "'zj'" in str(refused.value) and "杭洲" in str(refused.value)
    with pytest.raises(InvalidInput) as single:
        shop.orders.fire(f"o-{numbers[0]}", "ship")
    assert single.value.problems == refused.value.problems
    # And nothing of the batch was written: both still packed, no parcel
    for n in numbers:
        assert shop.orders.get(f"o-{n}").state == "packed"
        assert shop.shipments.of_order(f"o-{n}") == []
    shop.close()


def test_a_single_ship_with_latin_script_regions_loads_the_table_before_the_lock(
        sqlite_url, clock, a_new_process):
    # Given a catalogue naming Hangzhou in Latin script (no Chinese region to check, but
    # selection still matches the destination 杭州市 against the table) and a packed order
    shop = make_pilot(sqlite_url, clock, carriers={
        "hz": CarrierSpec(regions=["Hangzhou"], transit_days=1, cost=500),
        "any": CarrierSpec(transit_days=2, cost=900)})
    [number] = packed_orders(shop, 1)
    seen = a_new_process(sqlite_url)
    # When it ships through the single call
    shop.orders.fire(f"o-{number}", "ship")
    # Then the table was loaded with no write lock held
    assert seen == ["free"]
    assert shop.orders.get(f"o-{number}").state == "shipped"
    shop.close()
