"""Racing actions that run in a set sequence: each waits until the locks of its store's
database are held and waited for as the scenario needs, read from pg_locks, so the
interleaving is the same every run (PostgreSQL only)."""

from __future__ import annotations

import time

from sqlalchemy import text

from orderpilot import OrderPilot

ADVISORY = text(
    "SELECT count(*) FILTER (WHERE granted), count(*) FILTER (WHERE NOT granted) FROM pg_locks "
    "WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database "
    "WHERE datname = current_database())")


WAITING = text(
    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE NOT l.granted AND a.datname = current_database()")


def hold_inventory_until(pilot: OrderPilot, sku: str, warehouse: str, waiting: int) -> str:
    """Hold one inventory row (as a payment of it would), say so with a turn, and commit once
    `waiting` lock waits of any kind are in the database."""
    with pilot.context.tx() as tx:
        tx.store.sql.one("SELECT on_hand FROM inventory WHERE sku = :s AND warehouse = :w "
                         "FOR UPDATE", {"s": sku, "w": warehouse})
        tx.store.take_turn("holding-inventory")
        _until_waiting(pilot, waiting)
    return "committed"


def sweep_when_held(pilot: OrderPilot) -> dict[str, int]:
    """The deadline sweep, once the inventory row is held (its turn taken)."""
    _until(pilot, held=1, waiting=0)
    return pilot.sweep()


def place_when_waiting(pilot: OrderPilot, buyer: str, lines: list[dict], waiting: int) -> str:
    """A placement, once `waiting` lock waits are in the database."""
    from tests.integration.races.actions import place

    _until_waiting(pilot, waiting)
    return place(pilot, buyer, lines)


def _until_waiting(pilot: OrderPilot, waiting: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with pilot.context.engine.connect() as connection:
            if connection.execute(WAITING).scalar() >= waiting:
                return
        time.sleep(0.01)
    raise TimeoutError(f"never {waiting} lock waits")


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
