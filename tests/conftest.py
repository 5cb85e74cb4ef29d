"""Shared fixtures: a simulated clock, a real SQLite file per test, PostgreSQL when reachable."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from orderpilot import ManualClock, OrderPilot
from statemachine.risk_port import approve_everything

START = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)
POSTGRES_ENV = "ORDERPILOT_TEST_POSTGRES_URL"
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"  # trust auth, as on our machines


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def live_clock() -> ManualClock:
    """A clock that starts at the real time and moves only when told to: for tests whose
    receivers check signature timestamps against the wall clock."""
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'orderpilot.db'}"


@pytest.fixture
def pilot(sqlite_url: str, clock: ManualClock) -> Iterator[OrderPilot]:
    p = OrderPilot(sqlite_url, clock=clock, risk_check=approve_everything)
    yield p
    p.close()


def _admin_url() -> str:
    """ORDERPILOT_TEST_POSTGRES_URL, else the local server our machines run ("" disables)."""
    return os.environ.get(POSTGRES_ENV, LOCAL_POSTGRES)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with fresh_postgres_database() as url:
        yield url


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create an empty database on the test server (skip the test if there is none), drop it
    when the block ends."""
    admin = _admin_url()
    if not admin:
        pytest.skip(f"{POSTGRES_ENV} is empty: PostgreSQL tests disabled")
    import psycopg

    base = admin.replace("postgresql+psycopg://", "postgresql://")
    name = f"orderpilot_t_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(base, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL at {base} is not reachable: {error}")
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_url(request) -> str:
    """Run the test once on a SQLite file and once on PostgreSQL (skipped if unreachable)."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def any_pilot(any_url: str, clock: ManualClock) -> Iterator[OrderPilot]:
    p = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    yield p
    p.close()
