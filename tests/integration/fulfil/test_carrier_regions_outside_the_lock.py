"""The carrier catalogue's regions are checked against the division table (seconds to load,
once per process: 92a939f) before a `ship` takes the store's write lock. On SQLite that lock
is the whole database's: every CLI `order fire … ship` is a new process, and each held every
other writer (payment webhooks, the console) waiting while the table loaded."""

from __future__ import annotations

import sqlite3

import integrations.fulfil_config as fulfil_config
from integrations.fulfil_config import CarrierSpec
from tests.factories import paid_order, stock

from .conftest import make_pilot


def write_lock(path: str) -> str:
    """`free` when another connection to the SQLite file at `path` can take its write lock
    now, else SQLite's answer (`database is locked`)."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return "free"
    except sqlite3.OperationalError as error:
        return str(error)
    finally:
        other.close()


def test_the_division_table_is_read_while_other_writers_can_still_write(sqlite_url, clock,
                                                                        monkeypatch):
    # Given a shop with a carrier for 杭州 and an order packed in it
    shop = make_pilot(sqlite_url, clock, carriers={
        "hz": CarrierSpec(regions=["杭州"], transit_days=1, cost=500),
        "any": CarrierSpec(transit_days=2, cost=900)})
    stock(shop, "SKU-1", "WH-A", 10)
    order = paid_order(shop)
    for trigger in ("start_picking", "pack"):
        shop.orders.fire(order.id, trigger)
    # And a probe: while the table is consulted, can another process take the write lock?
    path, seen = sqlite_url.removeprefix("sqlite:///"), []
    looked_up = fulfil_config.cities_or_provinces

    def probe(region: str):
        seen.append(write_lock(path))
        return looked_up(region)

    monkeypatch.setattr(fulfil_config, "cities_or_provinces", probe)
    fulfil_config._first_unknown.cache_clear()  # a new process: the check not made yet
    # When it ships (the process's first carrier selection)
    shop.orders.fire(order.id, "ship")
    # Then the table was read with no write lock held: others could write meanwhile
    assert seen == ["free"]
    assert shop.orders.get(order.id).state == "shipped"
    shop.close()
