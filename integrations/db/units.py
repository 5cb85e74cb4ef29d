"""Units of work on held connections: BEGIN … COMMIT without a pool round trip per transaction.

Measured here: checking a connection out of the SQLAlchemy pool, beginning, committing and
checking it back in (a rollback on check-in) cost ~80 µs of CPU per transaction against ~17 µs
for BEGIN/COMMIT on a DBAPI connection kept open — a third of a state change. So connections
are leased from a small pool of our own and kept open; a unit of work issues BEGIN (IMMEDIATE
on SQLite, so a writer takes the lock when it starts) and COMMIT on the driver connection.
The SQLAlchemy `Connection` wrapped around it still serves Core queries: the engine's `begin`
hook sees the driver already in a transaction and issues nothing more, and the unit commits
through SQLAlchemy when Core opened its own transaction state, so both views stay in step.

On PostgreSQL the writes a unit of work deferred (sql.py `later`) travel with its COMMIT, one
round trip; a rollback drops them unsent.

A connection whose transaction failed to roll back (a dead PostgreSQL session) is discarded,
never returned to the list. After a fork the child starts with an empty list: a connection is
never shared between processes.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import URL, Connection
from sqlalchemy.pool import NullPool

from integrations.db.engine import DEFAULT_SQLITE_SYNCHRONOUS, make_engine
from integrations.db.sql import PENDING, Pending

T = TypeVar("T")
WRITE_TURN_WAIT = 30.0  # seconds, as the busy timeout (engine.SQLITE_PRAGMAS)


class Units:
    """Hands out one connection per unit of work, in a transaction, and takes it back.

    It is its own small pool: at most `limit` connections, opened on first need through an
    engine of their own (no SQLAlchemy pool under them), kept open, shared by all threads; a
    caller finding all of them busy waits for one to come back.
    """

    def __init__(self, url: URL, limit: int = 32,
                 sqlite_synchronous: str = DEFAULT_SQLITE_SYNCHRONOUS):
        self.engine = make_engine(url, poolclass=NullPool, sqlite_synchronous=sqlite_synchronous)
        self.sqlite_synchronous = sqlite_synchronous
        self.sqlite = self.engine.dialect.name == "sqlite"
        self.limit = limit
        self._idle: list[Connection] = []
        self._open = 0
        self._free = threading.Condition()
        self._pid = os.getpid()
        self._orphans: list[Connection] = []  # inherited across a fork: kept, never used
        self._closed = False
        self._write_turn, self._turn_pid = threading.Lock(), os.getpid()  # see `_writing`
        # what was built on each held connection for its units of work (`tools`), with the
        # driver connection it was built on
        self._tools: dict[Connection, tuple[Any, Any]] = {}

    def begin(self, readonly: bool = False) -> Unit:
        """A connection in a fresh transaction; commit on exit, roll back if the block raises.
        (A context manager written as a class, not a generator: every API call opens one,
        and `contextlib`'s generator machinery around it, with the write turn's, cost more
        than the BEGIN and COMMIT of an empty transaction.)"""
        return Unit(self, readonly)

    def tools(self, unit: Unit, connection: Connection, build: Callable[[Connection], T]) -> T:
        """`build(connection)` for the connection `unit` leased, built once while the
        connection is held (again if SQLAlchemy reconnected it to another driver connection):
        a unit of work's store, stock and writer are the same objects on the same connection."""
        kept = self._tools.get(connection)
        if kept is None or kept[0] is not unit.driver:
            kept = self._tools[connection] = (unit.driver, build(connection))
        return kept[1]

    def _writing(self, readonly: bool, pid: int) -> threading.Lock | None:
        """On SQLite, this process's write transactions take turns on a lock before BEGIN
        IMMEDIATE: a thread waiting for another's COMMIT is woken when it ends, where SQLite's
        busy handler would sleep 1, 2, 5 … 100 ms between tries (measured: p99 of 1.7 s for
        16 concurrent webhook placements). After `WRITE_TURN_WAIT` s (a nested write unit of
        the same thread: never here) it goes on and leaves the wait to SQLite, as before.
        Returns the lock taken (the caller releases it), None when none was."""
        if readonly or not self.sqlite:
            return None
        if self._turn_pid != pid:  # forked: a lock held by a parent's thread is not ours
            self._write_turn, self._turn_pid = threading.Lock(), pid
        turn = self._write_turn
        return turn if turn.acquire(timeout=WRITE_TURN_WAIT) else None

    def close(self) -> None:
        """Close every idle connection (leased ones close when given back after this); a unit
        of work asked for after this is refused, no connection opened for it."""
        with self._free:
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._closed = True
            self._free.notify_all()
        for connection in idle:
            connection.close()
        self._tools.clear()
        self.engine.dispose()

    def _lease(self, pid: int) -> Connection:
        with self._free:
            if pid != self._pid:  # forked: the parent's connections are not ours
                self._orphans += self._idle
                self._idle, self._open, self._pid = [], 0, pid
                self._tools = {}
            while not self._closed and not self._idle and self._open >= self.limit:
                self._free.wait()
            if self._closed:
                shown = self.engine.url.render_as_string(hide_password=True)
                raise RuntimeError(f"the store at {shown} was closed: open it again to use it")
            if self._idle:
                return self._idle.pop()
            self._open += 1
        try:
            return self.engine.connect()
        except BaseException:
            with self._free:
                self._open -= 1
                self._free.notify()
            raise

    def _give_back(self, connection: Connection, pid: int) -> None:
        with self._free:
            if pid == self._pid and not self._closed:
                self._idle.append(connection)
                self._free.notify()
                return
            if pid == self._pid:  # leased when `close` ran: closed now, not kept
                self._open -= 1
                self._free.notify()
        self._tools.pop(connection, None)
        connection.close()

    def _discard(self, connection: Connection) -> None:
        self._tools.pop(connection, None)
        connection.invalidate()
        connection.close()
        with self._free:
            self._open -= 1
            self._free.notify()


class Unit:
    """One unit of work of `Units.begin`: the write turn (SQLite), a leased connection and its
    transaction; committed when the block ends, rolled back if it raises. A connection whose
    rollback failed is discarded, not given back."""

    __slots__ = ("units", "readonly", "pid", "turn", "connection", "driver")

    def __init__(self, units: Units, readonly: bool):
        self.units, self.readonly = units, readonly

    def __enter__(self) -> Connection:
        units = self.units
        # the process id, read once: a unit of work begins and ends in one thread, so in
        # one process (a fork leaves only the forking thread in its child)
        self.pid = pid = os.getpid()
        self.turn = units._writing(self.readonly, pid)
        try:
            self.connection = connection = units._lease(pid)
        except BaseException:
            self._end_turn()
            raise
        self.driver = driver = connection.connection.driver_connection
        if units.sqlite:
            try:
                driver.execute("BEGIN" if self.readonly else "BEGIN IMMEDIATE")
            except BaseException:
                self._undo()
                raise
        return connection

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: Any) -> bool:
        if kind is not None:
            self._undo()
            return False  # the block's exception goes on
        try:
            _commit(self.connection, self.driver)
        except BaseException:
            self._undo()
            raise
        self.units._give_back(self.connection, self.pid)
        self._end_turn()
        return False

    def _undo(self) -> None:
        """Roll back and give the connection back (discard it if it could not roll back),
        then end the write turn."""
        try:
            if _rolled_back(self.connection, self.driver):
                self.units._give_back(self.connection, self.pid)
            else:
                self.units._discard(self.connection)
        finally:
            self._end_turn()

    def _end_turn(self) -> None:
        if self.turn is not None:
            self.turn.release()
            self.turn = None


def _commit(connection: Connection, driver: Any) -> None:
    pending: Pending | None = connection.info.get(PENDING)
    if connection.in_transaction():  # Core statements opened SQLAlchemy's own state
        if pending:
            pending.send(driver)
        connection.commit()
    elif pending:
        pending.commit(driver)
    else:
        driver.commit()


def _rolled_back(connection: Connection, driver: Any) -> bool:
    """Roll back; False if the connection could not (it is broken and must go)."""
    pending: Pending | None = connection.info.get(PENDING)
    if pending:
        pending.clear()  # never sent: the rollback has nothing of them to undo
    try:
        if connection.in_transaction():
            connection.rollback()
        else:
            driver.rollback()
        return True
    except Exception:
        return False


class Savepoints:
    """Stands in for `Units` inside a group-commit batch (service/group_commit.py): each unit
    of work is a savepoint of the batch's one transaction."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self._driver = connection.connection.driver_connection
        self._names = itertools.count(1)
        self._pending: Pending | None = (None if connection.dialect.name == "sqlite"
                                         else connection.info.setdefault(PENDING, Pending()))

    @contextmanager
    def begin(self, readonly: bool = False) -> Iterator[Connection]:
        """A savepoint around the block. On PostgreSQL SAVEPOINT and RELEASE wait in the
        connection's queue (sql.py `later`) and travel with the statements around them; the
        block's deferred writes are sent and checked before its RELEASE, so a command whose
        writes fail is rolled back alone."""
        name = f"op_group_{next(self._names)}"
        self._later(f"SAVEPOINT {name}")
        try:
            yield self.connection
            if self._pending:
                self._pending.send(self._driver)
        except BaseException:
            self._undo(name)
            raise
        self._later(f"RELEASE SAVEPOINT {name}")

    def _later(self, statement: str) -> None:
        if self._pending is None:
            self._driver.execute(statement)
        else:
            self._pending.append((statement, ({},), None))

    def _undo(self, name: str) -> None:
        """Roll the block back: its queued statements are dropped, and if its SAVEPOINT was
        never sent there is nothing more to undo."""
        pending, mark = self._pending, f"SAVEPOINT {name}"
        if pending is not None:
            unsent = [i for i, (text, _, _) in enumerate(pending) if text == mark]
            if unsent:
                del pending[unsent[0]:]
                return
            pending.clear()  # all of the block's: its SAVEPOINT left with what came before
        self._driver.execute(f"ROLLBACK TO SAVEPOINT {name}")
        self._driver.execute(f"RELEASE SAVEPOINT {name}")
