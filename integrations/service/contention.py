"""Retry policy for transactions that collide with concurrent writers.

PostgreSQL aborts one of two transactions that deadlock (SQLSTATE 40P01) or that cannot be
serialised (40001), and refuses a lock whose bounded wait ran out (55P03, `lock_timeout`);
SQLite answers "database is locked" when its busy timeout runs out. Either
way the transaction was rolled back and nothing was written, so the whole unit of work is run
again — its idempotency keys and version checks make the re-run safe — after a short random
pause (full jitter: colliding callers spread out instead of colliding again in step). When the
budget is spent the caller gets `Contention`, a documented OrderPilotError, never the driver's
exception.

The lock order (README "How it works", docs/design.md "Concurrency") makes deadlocks rare;
this is the backstop, and `retries()` counts how often it was needed (bench/pg_scaling.py).
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from statemachine.errors import Contention, InvalidInput, OrderPilotError, StoreUnavailable

P = ParamSpec("P")
T = TypeVar("T")

ATTEMPTS = 6
# our own generator: the jitter must not move the global `random` state an application (or a
# property test drawing in another thread) relies on
_JITTER = random.Random()
FIRST_PAUSE, MAX_PAUSE = 0.005, 0.25  # seconds; the pause doubles per attempt, up to the cap
# 55P03: a bounded lock wait (`SET LOCAL lock_timeout`) ran out, PostgreSQL's busy timeout
RETRYABLE_SQLSTATES = {"40001": "serialization failure", "40P01": "deadlock",
                       "55P03": "lock timeout"}
_retried = 0


def contention_cause(error: BaseException) -> str | None:
    """Why `error` is a collision with another writer (None if it is not one)."""
    seen: BaseException | None = error
    while seen is not None:
        state = getattr(seen, "sqlstate", None)
        if state in RETRYABLE_SQLSTATES:
            return RETRYABLE_SQLSTATES[state]
        if type(seen).__name__ == "OperationalError" and "database is locked" in str(seen):
            return "SQLite busy timeout"
        seen = getattr(seen, "orig", None) or seen.__cause__
    return None


def as_contention(error: BaseException, what: str = "the transaction") -> Contention | None:
    """The documented error for a raw collision (None when `error` is something else)."""
    if isinstance(error, Contention):
        return error
    cause = contention_cause(error)
    return None if cause is None else Contention(what, 1, cause)


def as_domain_error(error: BaseException, where: str) -> OrderPilotError | None:
    """The documented error for a raw driver error leaving a transaction: a collision
    (`Contention`), a store that went away (`StoreUnavailable`), a value the store refused
    (`InvalidInput`); None for anything else (integrity errors are settled by the callers
    that expect them: idempotency races, unique claims)."""
    collision = as_contention(error)
    if collision is not None:
        return collision
    kind = _driver_error_kind(error)
    if kind == "OperationalError":
        return StoreUnavailable(where, _first_line(error))
    if kind == "DataError":
        return InvalidInput({"input": f"the store refused a value: {_first_line(error)}"})
    return None


def _driver_error_kind(error: BaseException) -> str | None:
    """OperationalError / DataError of SQLAlchemy, psycopg or sqlite3, by DB-API class name."""
    for cls in type(error).__mro__:
        if cls.__name__ in ("OperationalError", "DataError") and cls.__module__.split(".")[0] in (
                "sqlalchemy", "psycopg", "sqlite3"):
            return cls.__name__
    return None


def _first_line(error: BaseException) -> str:
    """The driver's message without SQL or parameters (they may hold personal data)."""
    orig = getattr(error, "orig", None) or error
    return str(orig).strip().splitlines()[0][:200] if str(orig).strip() else type(orig).__name__


def retrying(what: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Decorate a unit of work (it must open its own transaction) to be re-run on collision."""
    def decorate(work: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(work)
        def run(*args: P.args, **kwargs: P.kwargs) -> T:
            global _retried
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    return work(*args, **kwargs)
                except Exception as error:
                    collision = as_contention(error, what)
                    if collision is None:
                        raise
                    if attempt == ATTEMPTS:
                        raise Contention(what, attempt, collision.cause) from error
                _retried += 1
                time.sleep(_JITTER.uniform(0, min(MAX_PAUSE, FIRST_PAUSE * 2 ** attempt)))
            raise AssertionError("unreachable")

        return run

    return decorate


def retries() -> int:
    """How many re-runs this process has needed so far (for benchmarks and metrics)."""
    return _retried
