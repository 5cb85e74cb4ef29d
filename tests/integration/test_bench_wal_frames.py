"""bench/wal_frames.py names the tables and indexes each call of the happy path writes."""

from __future__ import annotations

import sqlite3

import pytest

from bench.wal_frames import measure


def _has_dbstat() -> bool:
    try:
        sqlite3.connect(":memory:").execute("SELECT count(*) FROM dbstat").fetchone()
    except sqlite3.OperationalError:
        return False
    return True


@pytest.mark.skipif(not _has_dbstat(), reason="this SQLite is built without the dbstat table")
def test_every_call_writes_its_history_and_outbox_and_only_ship_makes_a_parcel():
    # Given a store with a few orders done, When one more order runs the eight calls
    calls = measure(warm=3)
    # Then each call appended frames and ran statements, and each wrote history and outbox
    assert [c["call"] for c in calls] == ["place", "pay", "start_picking", "pack", "ship",
                                          "pick_up", "deliver", "close"]
    for call in calls:
        assert call["statements"] >= 3, call  # BEGIN, a write, COMMIT at least
        assert call["frames"].get("transition_history", 0) >= 1, call
        assert call["frames"].get("outbox", 0) >= 1, call
    # And the parcel's row is written by ship and by its own two scans, not by the order steps
    wrote_parcels = [c["call"] for c in calls if c["frames"].get("shipments")]
    assert wrote_parcels == ["ship", "pick_up", "deliver"]
