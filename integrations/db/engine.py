"""Engines for the two supported stores: a SQLite file (default) and PostgreSQL (by URL)."""

from __future__ import annotations

import random
import sqlite3
import time
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url

from integrations.db.sql import PENDING

# WAL, with a checkpoint every 10,000 pages: checkpoints fsync; a state change dirties ~10 pages
# (several tables and indexes), so the default checkpoint every 1,000 pages would fsync every
# ~100 commits. 10,000 pages (≈40 MB of WAL) cuts that tenfold; measured in bench/lifecycle.py.
SQLITE_PRAGMAS = ("busy_timeout=30000", "wal_autocheckpoint=10000", "foreign_keys=ON")
# How durable a COMMIT is (ORDERPILOT_SQLITE_SYNCHRONOUS, docs/operate.md#durability):
#   full    a COMMIT fsyncs the WAL before it returns: an answered write survives a power loss
#           or an OS crash (on a disk that honours fsync)
#   normal  a COMMIT appends to the WAL without fsync: it survives a killed process, but a power
#           loss or an OS crash can take the commits the kernel had not yet written back (up
#           to ~30 s of them; never a corrupt file). The WAL is fsynced at each checkpoint.
# The default is full: orderpilot answers webhooks (payments Alipay / Stripe will not send again)
# after the COMMIT, so an answered write must outlive the machine, not only the process.
SQLITE_SYNCHRONOUS = ("normal", "full")
DEFAULT_SQLITE_SYNCHRONOUS = "full"
WAL_SWITCH_TRIES = 100
_JITTER = random.Random()  # not the global `random` state the application owns


def make_engine(url: str | URL, *, sqlite_synchronous: str = DEFAULT_SQLITE_SYNCHRONOUS,
                **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout, write transactions that lock early
    and `PRAGMA synchronous=<sqlite_synchronous>` on every connection (ignored elsewhere)."""
    # hide_parameters: a driver error's message never carries the values of the statement
    # (a phone, an address), so logging an error cannot leak them
    kwargs.setdefault("hide_parameters", True)
    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        _synchronous(sqlite_synchronous)  # refused before anything is opened
        engine = create_engine(url, **kwargs)
        _tune_sqlite(engine, sqlite_synchronous)
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


def _tune_sqlite(engine: Engine, synchronous: str) -> None:
    # pysqlite's own transaction handling is switched off so that we can issue BEGIN IMMEDIATE:
    # a writer takes the lock when it starts, instead of failing with "database is locked" when
    # it tries to upgrade a read lock half-way (the SQLAlchemy documented recipe).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        tune_sqlite_connection(dbapi_connection, synchronous)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.connection.driver_connection.in_transaction:
            return  # a unit of work (db/units.py) began it on the driver already
        readonly = connection.get_execution_options().get("readonly", False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def tune_sqlite_connection(dbapi_connection: Any,
                           synchronous: str = DEFAULT_SQLITE_SYNCHRONOUS) -> None:
    """A sqlite3 connection set up as the store runs: no implicit transactions (we issue BEGIN),
    the pragmas, WAL. The benchmarks' raw paths use it too, so their floor is the same store."""
    level = _synchronous(synchronous)
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (*SQLITE_PRAGMAS, f"synchronous={level}"):
        cursor.execute(f"PRAGMA {pragma}")
    _switch_to_wal(cursor)
    cursor.close()


def _synchronous(level: str) -> str:
    """The level as a pragma value; a level we do not offer is refused (never interpolated)."""
    if level not in SQLITE_SYNCHRONOUS:
        raise ValueError(f"sqlite_synchronous must be one of {', '.join(SQLITE_SYNCHRONOUS)} "
                         f"(got {level!r})")
    return level.upper()


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
