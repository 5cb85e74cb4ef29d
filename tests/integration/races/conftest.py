"""Fixtures for the race suite: one pool of worker processes per session, a fresh store per
test (SQLite file and PostgreSQL), and the invariant check after every trial."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime

import pytest

from integrations.db.audit import audit
from orderpilot import OrderPilot
from tests.conftest import START
from tests.integration.races import actions
from tests.integration.races.pool import Outcome, RacePool

WORKERS = 4
TRIALS = [50, pytest.param(500, marks=[pytest.mark.slow, pytest.mark.soak], id="500")]


class Race:
    """One store raced by the pool's workers; the test's own pilot sets up and checks."""

    def __init__(self, pool: RacePool, url: str):
        self.pool, self.url = pool, url
        self.pilot: OrderPilot | None = None
        self.at(START)
        if url.startswith("postgresql"):
            _commit_without_waiting_for_disk(url)

    def open(self, risk: str = "approve_everything") -> OrderPilot:
        self.pool.open(self.url, risk)
        self.pilot = OrderPilot(self.url, clock=self.pool.clock,
                                risk_check=getattr(actions, risk))
        return self.pilot

    def at(self, when: datetime) -> None:
        self.pool.clock.set(when)

    def now(self) -> datetime:
        return self.pool.clock.now()

    def run(self, *calls: tuple[str, dict]) -> list[Outcome]:
        """Start these calls at the same moment in different processes; every error a caller
        sees must be an OrderPilotError."""
        outcomes = self.pool.race(calls)
        raw = [o for o in outcomes if not o.domain]
        assert not raw, f"raw errors reached callers: {raw}"
        return outcomes

    def check(self, order_ids: list[str] | None = None) -> None:
        """The store's invariants hold (for these orders and the whole inventory)."""
        scope = None if order_ids is None else [int(o[2:]) for o in order_ids]
        with self.pilot.context.engine.connect() as connection:
            found = audit(connection, scope)
        assert found == [], found

    def deadlocks(self) -> int | None:
        """Deadlocks PostgreSQL broke in this test's database so far (None on SQLite, whose
        writers take turns). The workers' connections are closed first: a backend reports
        its counts to the statistics when it exits, or a second later at the earliest."""
        if not self.url.startswith("postgresql"):
            return None
        import psycopg

        self.pool.release()
        name = self.url.rsplit("/", 1)[1]
        seen, deadline = None, time.monotonic() + 10
        while time.monotonic() < deadline:  # until two reads a second apart agree
            with psycopg.connect(self.url) as connection:
                now = connection.execute("SELECT deadlocks FROM pg_stat_database "
                                         "WHERE datname = %s", (name,)).fetchone()[0]
            if now == seen:
                break
            seen = now
            time.sleep(1)
        self.pool.open(self.url)
        return seen

    def close(self) -> None:
        self.pool.release()
        if self.pilot is not None:
            self.pilot.close()


def _commit_without_waiting_for_disk(url: str) -> None:
    """`synchronous_commit = off` for this test database: commits stop waiting for the WAL
    flush (~30% faster trials on our disk). Locks, isolation and what a committed transaction
    shows to others are unchanged; only a crash of the server itself could lose the last
    commits, which no test here does."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')


@pytest.fixture(scope="session")
def race_pool() -> Iterator[RacePool]:
    pool = RacePool(WORKERS)
    yield pool
    pool.close()


@pytest.fixture
def race(race_pool: RacePool, any_url: str) -> Iterator[Race]:
    r = Race(race_pool, any_url)
    yield r
    r.close()
