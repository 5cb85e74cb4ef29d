"""Shared fixtures: a simulated clock, a real SQLite file per test, PostgreSQL when reachable."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from integrations.bootstrap import open_store
from orderpilot import ManualClock, OrderPilot
from statemachine.risk_port import approve_everything

# numpy comes into every test process that parses a Chinese address (jionlp → jiojio) or trains
# the risk model (scikit-learn), and OpenBLAS and OpenMP start a pool of threads per core there,
# which spin between calls: on our two cores, shared by both xdist workers and the servers they
# start, that was ~15-20 % more CPU for the same tests (tests/unit/risk/test_model.py: 8.3-8.9 s
# user with pools, 6.9-7.4 s with one thread). Set before anything imports numpy, and inherited
# by the worker processes and servers the tests start; a value already set is kept.
for _pool in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_pool, "1")

# pytest-xdist's workers set COLUMNS=80 to look like a terminal; the CLI's consoles are made at
# import and would keep that width for good. Tests that need a width set their own per call,
# as they do in a plain run, where COLUMNS is not set.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)

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


# Stores start migrated. Running the migrations costs ~0.2 s on a SQLite file and ~1-2 s on
# PostgreSQL; over two thousand tests that was a large part of the suite's time. So each session
# migrates one template store and every test gets a copy of it (a file copy on SQLite, CREATE
# DATABASE … TEMPLATE on PostgreSQL). Opening a copy still runs the product's schema check. The
# upgrade from empty is tested where it matters, on empty stores: tests/integration/
# test_migrations.py (`empty_url`) and the first-use race (tests/integration/races/).


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head, checkpointed so the file alone holds it."""
    path = tmp_path_factory.mktemp("template") / "orderpilot.db"
    engine = open_store(f"sqlite:///{path}")
    engine.dispose()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, _sqlite_template: Path) -> str:
    """A SQLite file of its own for one test, already migrated."""
    path = tmp_path / "orderpilot.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def empty_sqlite_url(tmp_path: Path) -> str:
    """A SQLite file nobody has opened yet."""
    return f"sqlite:///{tmp_path / 'orderpilot.db'}"


@pytest.fixture
def pilot(sqlite_url: str, clock: ManualClock) -> Iterator[OrderPilot]:
    p = OrderPilot(sqlite_url, clock=clock, risk_check=approve_everything)
    yield p
    p.close()


def _admin_url() -> str:
    """ORDERPILOT_TEST_POSTGRES_URL, else the local server our machines run ("" disables)."""
    return os.environ.get(POSTGRES_ENV, LOCAL_POSTGRES)


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[str | None]:
    """One PostgreSQL database migrated to head, with no connection left open (a template must
    have none), dropped at the end of the session; None when no server answers."""
    try:
        with fresh_postgres_database() as url:
            name = url.rsplit("/", 1)[1]
            open_store(url).dispose()
            yield name
    except pytest.skip.Exception:
        yield None


class _Copies:
    """Copies of the template made ahead of the tests that take them, one at a time in a thread
    of their own: CREATE DATABASE … TEMPLATE takes ~0.5 s on our machines, and a third of the
    suite's tests start with one (they spend much of their time waiting on servers anyway)."""

    AHEAD = 2

    def __init__(self, base: str, template: str):
        self.base, self.template = base, template
        self.ready: deque[Future[str]] = deque()
        self.maker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="copy-db")

    def take(self) -> str:
        while len(self.ready) <= self.AHEAD:
            self.ready.append(self.maker.submit(_create, self.base, self.template))
        return self.ready.popleft().result()

    def close(self) -> None:
        for copy in self.ready:  # made and never taken
            _drop_later(self.base, copy.result())
        self.maker.shutdown()


def _create(base: str, template: str) -> str:
    import psycopg

    name = f"orderpilot_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name


@pytest.fixture(scope="session")
def _postgres_copies(_postgres_template: str | None) -> Iterator[_Copies | None]:
    if _postgres_template is None:
        yield None
        return
    copies = _Copies(_admin_url().replace("postgresql+psycopg://", "postgresql://"),
                     _postgres_template)
    yield copies
    copies.close()


@pytest.fixture
def postgres_url(_postgres_copies: _Copies | None) -> Iterator[str]:
    """A PostgreSQL database of its own for one test, already migrated, dropped afterwards."""
    if _postgres_copies is None:
        pytest.skip("PostgreSQL is not reachable (see ORDERPILOT_TEST_POSTGRES_URL)")
    name = _postgres_copies.take()
    try:
        yield _postgres_copies.base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _drop_later(_postgres_copies.base, name)


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """A PostgreSQL database nobody has opened yet, dropped afterwards."""
    with fresh_postgres_database() as url:
        yield url


@contextmanager
def fresh_postgres_database(template: str | None = None) -> Iterator[str]:
    """Create a database on the test server — empty, or a copy of `template` — (skip the test
    if there is no server), drop it when the block ends."""
    admin = _admin_url()
    if not admin:
        pytest.skip(f"{POSTGRES_ENV} is empty: PostgreSQL tests disabled")
    import psycopg

    base = admin.replace("postgresql+psycopg://", "postgresql://")
    name = f"orderpilot_t_{uuid.uuid4().hex[:10]}"
    copied = f' TEMPLATE "{template}"' if template else ""
    try:
        with psycopg.connect(base, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copied}')
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL at {base} is not reachable: {error}")
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _drop_later(base, name)


# DROP DATABASE … WITH (FORCE) (PostgreSQL 13+; ours is 15) ends the sessions still connected
# to the database at once, but then waits for a checkpoint it forces: a cost shared by the whole
# server, which grows with everyone's writes — 0.2-2 s on a quiet machine, up to 24 s a drop
# with eight sessions testing on two cores (pg_stat_activity: the drops wait on CheckpointStart
# / CheckpointDone, not on connections). The next test need not wait for it, so drops run
# beside the tests, four at a time: drops in flight together share a checkpoint. 124 PostgreSQL
# tests (test_order_lifecycle.py, fulfil/; load 11-17) left 572 s of drops for the session's end
# one at a time, 209 s four at a time (eight: 256 s). The session ends when all are done.
_DROPS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="drop-db")
_DROPPED: list[tuple[str, Future[None]]] = []
SLOW_DROPS = 10.0  # seconds waited at the end before the session says so


def _drop(base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _drop_later(base: str, name: str) -> None:
    _DROPPED.append((name, _DROPS.submit(_drop, base, name)))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Wait for the scratch databases' drops; say so when that took long or one failed (a
    database left behind)."""
    started, left = time.monotonic(), sum(not done.done() for _, done in _DROPPED)
    _DROPS.shutdown(wait=True)
    waited = time.monotonic() - started
    failed = [f"{name}: {done.exception()}" for name, done in _DROPPED if done.exception()]
    report = session.config.pluginmanager.get_plugin("terminalreporter")
    if report is not None and waited > SLOW_DROPS:
        report.write_line(f"waited {waited:.0f} s for {left} scratch PostgreSQL database(s) "
                          "to drop (each DROP DATABASE waits for a checkpoint of the server)")
    if report is not None and failed:
        report.write_line(f"{len(failed)} scratch database(s) not dropped: " + "; ".join(
            failed[:3]), red=True)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_url(request) -> str:
    """Run the test once on a SQLite file and once on PostgreSQL (skipped if unreachable)."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request) -> str:
    """Like any_url, but a store nobody has opened yet (no schema)."""
    return request.getfixturevalue(f"empty_{request.param}_url")


@pytest.fixture
def any_pilot(any_url: str, clock: ManualClock) -> Iterator[OrderPilot]:
    p = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    yield p
    p.close()


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real `prefect server start` (UI included) for the whole session, started on first
    use, on a fresh PostgreSQL database when one answers (else SQLite); yields its API URL.
    Flow heartbeats are off in this process (their join costs ~1 s per engine run)."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        temporary_settings,
    )

    from orderpilot.up import start_server
    from tests.integration.integ.server import free_port

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # offline machines
    with _prefect_database() as database:
        server = start_server(free_port(), database, tmp_path_factory.mktemp("prefect"))
        try:
            with temporary_settings({PREFECT_API_URL: server.api_url,
                                     PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
                yield server.api_url
        finally:
            assert server.process is not None
            server.process.terminate()
            server.process.wait(timeout=60)


@contextmanager
def _prefect_database() -> Iterator[str | None]:
    """A fresh PostgreSQL database for the session's Prefect server (None: use SQLite)."""
    admin = _admin_url().replace("postgresql+psycopg://", "postgresql://")
    name = f"orderpilot_prefect_t_{uuid.uuid4().hex[:10]}"
    if not admin:
        yield None
        return
    try:
        import psycopg

        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception:  # no PostgreSQL here: the server keeps its state in SQLite
        yield None
        return
    try:
        yield admin.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0] + \
            f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
