"""Engines for the two supported stores: a SQLite file (default) and PostgreSQL (by URL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url

# WAL with synchronous=NORMAL: a commit appends to the WAL without fsync (durable against a
# crashed process, not against power loss before the next checkpoint). Checkpoints do fsync;
# a state change dirties ~10 pages (several tables and indexes), so the default checkpoint
# every 1,000 pages would fsync every ~100 commits. 10,000 pages (≈40 MB of WAL) cuts that
# tenfold; measured in bench/lifecycle.py.
SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "wal_autocheckpoint=10000",
                  "foreign_keys=ON", "busy_timeout=30000")


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and write transactions that lock early."""
    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, **kwargs)
        _tune_sqlite(engine)
        return engine
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _tune_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling is switched off so that we can issue BEGIN IMMEDIATE:
    # a writer takes the lock when it starts, instead of failing with "database is locked" when
    # it tries to upgrade a read lock half-way (the SQLAlchemy documented recipe).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.connection.driver_connection.in_transaction:
            return  # a unit of work (db/units.py) began it on the driver already
        readonly = connection.get_execution_options().get("readonly", False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")
