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


@pytest.mark.skipif(not _has_dbstat(), reason="this SQLite is built without the dbstat table")
def test_a_webhook_placement_writes_its_keyed_rows_without_a_second_key_btree():
    from bench.wal_frames import measure_webhook

    # Given a served store with a few placements, When three more signed placements come in
    placed = measure_webhook(warm=3, count=3)
    frames = placed["frames_by_btree"]
    # Then each wrote its order, its log row, its inbox key and its risk counters
    assert placed["states"] == {"awaiting_payment": 3}
    for table in ("orders", "webhook_events", "inbox", "risk_key_buyers", "risk_buyer_stats"):
        assert frames.get(table, 0) >= 1, (table, frames)
    # And the tables kept in their key (migration 0035) have no index of that key beside them
    keyed = ("inbox", "order_lines", "risk_decisions", "risk_buyer_stats", "risk_buyer_spend",
             "risk_key_buyers", "risk_key_stats", "risk_buyer_addresses")
    assert not [b for b in frames if b.startswith("sqlite_autoindex_")
                and b.removeprefix("sqlite_autoindex_").rsplit("_", 1)[0] in keyed], frames
