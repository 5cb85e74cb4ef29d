"""The retry policy for collisions with concurrent writers (integrations/service/contention.py):
a deadlock, a serialization failure or SQLite's busy timeout re-runs the whole unit of work a
bounded number of times with jittered pauses, then surfaces as `Contention`; anything else goes
straight to the caller. The errors are the drivers' own exception classes, raised the way
SQLAlchemy raises them."""

from __future__ import annotations

import asyncio
import sqlite3

import httpx
import psycopg
import psycopg.errors
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from integrations.http.errors import install
from integrations.service import contention
from orderpilot import Contention, InvalidInput, OrderPilotError, StoreUnavailable


def through_sqlalchemy(error: Exception) -> DBAPIError:
    """`error` as SQLAlchemy raises it from a statement (the driver's error as `.orig`)."""
    base = psycopg.Error if isinstance(error, psycopg.Error) else sqlite3.Error
    return DBAPIError.instance("UPDATE inventory SET reserved = reserved + 1", {}, error, base)


def deadlock() -> DBAPIError:
    return through_sqlalchemy(psycopg.errors.DeadlockDetected("deadlock detected"))


def serialization_failure() -> DBAPIError:
    return through_sqlalchemy(psycopg.errors.SerializationFailure(
        "could not serialize access due to read/write dependencies among transactions"))


def sqlite_busy(tmp_path) -> DBAPIError:
    """A real "database is locked": a second writer on a file another connection writes."""
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    try:
        sqlite3.connect(path, timeout=0, isolation_level=None).execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        return through_sqlalchemy(error)
    finally:
        holder.close()
    raise AssertionError("the second writer was not refused")


class Flaky:
    """A unit of work that collides `times` times, then commits."""

    def __init__(self, times: int, error):
        self.times, self.error, self.calls = times, error, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.times:
            raise self.error()
        return "committed"


@pytest.fixture
def pauses(monkeypatch) -> list[float]:
    """The pauses the policy takes between attempts (recorded instead of slept)."""
    taken: list[float] = []
    monkeypatch.setattr(contention.time, "sleep", taken.append)
    return taken


@pytest.mark.parametrize("collision", [deadlock, serialization_failure])
def test_a_collision_is_run_again_until_it_commits(pauses, collision):
    # Given a unit of work that deadlocks twice, then goes through
    work = Flaky(2, collision)
    before = contention.retries()
    # When it runs under the policy
    result = contention.retrying("paying the order")(work)()
    # Then the caller sees only the commit, after three runs and two short pauses
    assert (result, work.calls) == ("committed", 3)
    assert contention.retries() - before == 2
    assert len(pauses) == 2 and all(0 <= p <= contention.MAX_PAUSE for p in pauses)


def test_sqlites_busy_timeout_is_a_collision_too(pauses, tmp_path):
    busy = sqlite_busy(tmp_path)
    assert contention.contention_cause(busy) == "SQLite busy timeout"
    work = Flaky(1, lambda: busy)
    assert contention.retrying("the sweep")(work)() == "committed"


def test_a_collision_that_never_clears_is_contention_naming_the_work_and_the_cause(pauses):
    # Given a unit of work that deadlocks every time
    work = Flaky(10**6, deadlock)
    # When it runs under the policy
    with pytest.raises(Contention) as refused:
        contention.retrying("placing the order")(work)()
    # Then it was tried ATTEMPTS times, and the caller gets one documented error
    assert work.calls == contention.ATTEMPTS and len(pauses) == contention.ATTEMPTS - 1
    error = refused.value
    assert isinstance(error, OrderPilotError) and error.code == "contention"
    assert (error.what, error.attempts, error.cause) == ("placing the order",
                                                          contention.ATTEMPTS, "deadlock")
    assert str(error) == ("placing the order collided with concurrent writers 6 time(s) "
                          "(deadlock); nothing was written, try again")
    # and the pauses are jittered within a doubling cap (colliding callers spread out)
    caps = [min(contention.MAX_PAUSE, contention.FIRST_PAUSE * 2 ** n)
            for n in range(1, contention.ATTEMPTS)]
    assert all(0 <= p <= cap for p, cap in zip(pauses, caps, strict=True)), pauses


def test_contention_the_work_finds_itself_is_run_again_under_the_same_budget(pauses):
    # Given a unit of work that finds its planned stock taken (the service raises Contention:
    # an address correction's hold refused) twice, then goes through
    lost = Flaky(2, lambda: Contention("correcting the address", 1, "stock taken"))
    # When it runs under the policy, then the caller sees only the commit
    assert contention.retrying("applying the event")(lost)() == "committed"
    assert (lost.calls, len(pauses)) == (3, 2)
    # and one that keeps losing is Contention after ATTEMPTS runs, naming the work and its cause
    always = Flaky(10**6, lambda: Contention("correcting the address", 1, "stock taken"))
    with pytest.raises(Contention) as refused:
        contention.retrying("applying the event")(always)()
    assert always.calls == contention.ATTEMPTS
    assert (refused.value.what, refused.value.attempts, refused.value.cause) == (
        "applying the event", contention.ATTEMPTS, "stock taken")


def test_an_error_that_is_not_a_collision_is_not_retried(pauses):
    work = Flaky(1, lambda: InvalidInput({"amount": "must be a whole number"}))
    with pytest.raises(InvalidInput):
        contention.retrying("paying the order")(work)()
    assert work.calls == 1 and pauses == []


def test_driver_errors_leaving_a_transaction_become_documented_errors(tmp_path):
    lost = through_sqlalchemy(psycopg.errors.AdminShutdown("terminating connection"))
    too_long = through_sqlalchemy(psycopg.errors.StringDataRightTruncation(
        "value too long for type character varying(200)"))
    lock_wait = through_sqlalchemy(psycopg.errors.LockNotAvailable(
        "canceling statement due to lock timeout"))
    assert isinstance(contention.as_domain_error(deadlock(), "db"), Contention)
    # a bounded lock wait that ran out is a collision, not a store that went away
    assert contention.as_domain_error(lock_wait, "db").cause == "lock timeout"
    assert isinstance(contention.as_domain_error(lost, "db"), StoreUnavailable)
    refused = contention.as_domain_error(too_long, "db")
    assert isinstance(refused, InvalidInput) and "varying(200)" in refused.problems["input"]


@pytest.mark.parametrize("error", [Contention("paying the order", 6, "deadlock"),
                                   StoreUnavailable("postgresql://db/shop", "server closed")])
def test_over_http_a_collision_or_a_lost_store_is_503_with_retry_after(error):
    # Given the webhook API's error handlers on a route that meets the error
    app = FastAPI()
    install(app)

    @app.post("/v1/payments/events")
    def pay() -> None:
        raise error

    # When a provider posts, then it hears "try again shortly", not "your request is bad"
    response = asyncio.run(_post(app, "/v1/payments/events"))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json() == {"error": error.code, "message": str(error)}


async def _post(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
        return await client.post(path)


def test_integrity_errors_are_recognised_from_every_driver_layer():
    import sqlite3

    from sqlalchemy.exc import IntegrityError

    from integrations.db.errors import is_integrity_error

    raw = sqlite3.IntegrityError("UNIQUE constraint failed: inbox.key")
    assert is_integrity_error(raw)
    assert is_integrity_error(IntegrityError("INSERT …", {}, raw))
    assert not is_integrity_error(sqlite3.OperationalError("database is locked"))
    assert not is_integrity_error(ValueError("IntegrityError"))
