"""Racing actions that take turns (Store.take_turn) in a set sequence: each waits until the
advisory locks of its store's database are held and waited for as the scenario needs, read
from pg_locks, so the interleaving is the same every run."""

from __future__ import annotations

import time

from sqlalchemy import text

from orderpilot import OrderPilot

ADVISORY = text(
    "SELECT count(*) FILTER (WHERE granted), count(*) FILTER (WHERE NOT granted) FROM pg_locks "
    "WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database "
    "WHERE datname = current_database())")


def hold_turns_until(pilot: OrderPilot, names: list[str], waiting: int) -> str:
    """Take these turns, keep them until `waiting` turns are waited for, then commit."""
    with pilot.context.tx() as tx:
        tx.store.take_turn(*names)
        _until(pilot, held=1, waiting=waiting)
    return "committed"


def take_turns_when(pilot: OrderPilot, names: list[str], held: int, waiting: int) -> str:
    """Once `held` turns are held and `waiting` waited for, take these turns and commit."""
    _until(pilot, held, waiting)
    with pilot.context.tx() as tx:
        tx.store.take_turn(*names)
    return "committed"


def _until(pilot: OrderPilot, held: int, waiting: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with pilot.context.engine.connect() as connection:
            now_held, now_waiting = connection.execute(ADVISORY).one()
        if now_held >= held and now_waiting >= waiting:
            return
        time.sleep(0.01)
    raise TimeoutError(f"never {held} turns held and {waiting} waited for")
