"""Engines for the two supported stores: a SQLite file (default) and PostgreSQL (by URL)."""

from __future__ import annotations

import random
import sqlite3
import time
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url

from integrations.db.sql import PENDING

# WAL with synchronous=NORMAL: a commit appends to the WAL without fsync (durable against a
# crashed process, not against power loss before the next checkpoint). Checkpoints do fsync;
# a state change dirties ~10 pages (several tables and indexes), so the default checkpoint
# every 1,000 pages would fsync every ~100 commits. 10,000 pages (≈40 MB of WAL) cuts that
# tenfold; measured in bench/lifecycle.py.
SQLITE_PRAGMAS = ("busy_timeout=30000", "synchronous=NORMAL", "wal_autocheckpoint=10000",
                  "foreign_keys=ON")
WAL_SWITCH_TRIES = 100
_JITTER = random.Random()  # not the global `random` state the application owns


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and write transactions that lock early."""
    # hide_parameters: a driver error's message never carries the values of the statement
    # (a phone, an address), so logging an error cannot leak them
    kwargs.setdefault("hide_parameters", True)
    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, **kwargs)
        _tune_sqlite(engine)
        return engine
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    event.listen(engine, "before_cursor_execute", _send_pending)
    return engine


def _send_pending(connection: Any, *_: Any) -> None:
    """A Core statement runs after the writes deferred on its connection (sql.py `later`)."""
    pending = connection.info.get(PENDING)
    if pending:
        pending.send(connection.connection.driver_connection)


def _tune_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling is switched off so that we can issue BEGIN IMMEDIATE:
    # a writer takes the lock when it starts, instead of failing with "database is locked" when
    # it tries to upgrade a read lock half-way (the SQLAlchemy documented recipe).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        tune_sqlite_connection(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.connection.driver_connection.in_transaction:
            return  # a unit of work (db/units.py) began it on the driver already
        readonly = connection.get_execution_options().get("readonly", False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def tune_sqlite_connection(dbapi_connection: Any) -> None:
    """A sqlite3 connection set up as the store runs: no implicit transactions (we issue BEGIN),
    the pragmas, WAL. The benchmarks' raw paths use it too, so their floor is the same store."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    _switch_to_wal(cursor)
    cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """Put the file in WAL mode (once per file; later connections find it so).

    Switching needs an exclusive lock, and SQLite answers "database is locked" at once, without
    its busy handler, when another process is switching or creating the same new file: several
    workers starting together on a new store. So the switch is retried for a moment.
    """
    for attempt in range(WAL_SWITCH_TRIES):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == WAL_SWITCH_TRIES - 1:
                raise
            time.sleep(0.01 + _JITTER.random() * 0.02)
