"""Units of work on held connections: BEGIN … COMMIT without a pool round trip per transaction.

Measured here (`python bench/lifecycle.py --profile`): checking a connection out of the
SQLAlchemy pool, beginning, committing and checking it back in (a rollback on check-in) cost
~80 µs of CPU per transaction against ~17 µs for BEGIN/COMMIT on a DBAPI connection kept open —
a third of a state change. So connections are leased from a small free list of our own and
kept open; a unit of work issues BEGIN (IMMEDIATE on SQLite, so a writer takes the lock when it
starts) and COMMIT on the driver connection itself. The SQLAlchemy `Connection` wrapped around
it still serves Core queries: the engine's `begin` hook sees the driver already in a
transaction and issues nothing more, and the unit commits through SQLAlchemy when Core opened
its own transaction state, so both views stay in step.

A connection whose transaction failed to roll back (a dead PostgreSQL session) is discarded,
never returned to the list. After a fork the child starts with an empty list: a connection is
never shared between processes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine


class Units:
    """Hands out one connection per unit of work, in a transaction, and takes it back."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self._idle: list[Connection] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._orphans: list[Connection] = []  # inherited across a fork: kept, never used

    @contextmanager
    def begin(self, readonly: bool = False) -> Iterator[Connection]:
        """A connection in a fresh transaction; commit on exit, roll back if the block raises."""
        connection = self._lease()
        driver = connection.connection.driver_connection
        try:
            if self.sqlite:
                driver.execute("BEGIN" if readonly else "BEGIN IMMEDIATE")
            yield connection
            _commit(connection, driver)
        except BaseException:
            if not _rolled_back(connection, driver):
                connection.invalidate()
                connection.close()
                raise
            self._give_back(connection)
            raise
        self._give_back(connection)

    def close(self) -> None:
        """Close every idle connection (leased ones close when given back after this)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _lease(self) -> Connection:
        with self._lock:
            if os.getpid() != self._pid:  # forked: the parent's connections are not ours
                self._orphans += self._idle
                self._idle, self._pid = [], os.getpid()
            if self._idle:
                return self._idle.pop()
        return self.engine.connect()

    def _give_back(self, connection: Connection) -> None:
        with self._lock:
            if os.getpid() == self._pid:
                self._idle.append(connection)
                return
        connection.close()


def _commit(connection: Connection, driver: Any) -> None:
    if connection.in_transaction():  # Core statements opened SQLAlchemy's own state
        connection.commit()
    else:
        driver.commit()


def _rolled_back(connection: Connection, driver: Any) -> bool:
    """Roll back; False if the connection could not (it is broken and must go)."""
    try:
        if connection.in_transaction():
            connection.rollback()
        else:
            driver.rollback()
        return True
    except Exception:
        return False
