"""Hot-path SQL on the DBAPI connection of the current SQLAlchemy transaction.

Why not SQLAlchemy Core for these statements: measured here, a prebuilt Core SELECT by primary
key costs ~27 µs per execution (cache-key generation, result processing), the same statement on
the DBAPI cursor ~3 µs. A state change runs about ten statements, so on the hot path that is the
difference between ~2 % and ~25 % of the raw sqlite3 limit (see bench/lifecycle.py).
The statements still run inside the unit of work's transaction (same DBAPI connection), so the
all-or-nothing guarantee is unchanged. Schema, migrations and cold queries stay on SQLAlchemy.

SQL is written once with `:name` parameters; for psycopg they become `%(name)s`. Datetimes are
bound the way SQLAlchemy stores them (aware UTC on PostgreSQL, 'YYYY-MM-DD HH:MM:SS.ffffff' UTC
text on SQLite) so both paths read each other's rows.

Writes whose answers nobody reads before commit (history, outbox, deadlines, holds, counters)
go through `later`: on PostgreSQL they wait in the connection's `Pending` queue and leave in
one pipeline (psycopg's pipeline mode) with the next statement that needs an answer, or with
the COMMIT — one round trip for the lot, in the order they were written; on SQLite (in-process,
no round trip) they run at once. A write that must affect a number of rows (the version check)
says so with `then`, run on the count when it is known and before anything is committed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Connection

Row = tuple[Any, ...]
Then = Callable[[int], Any]  # given a deferred write's row count: may raise, or defer more
PENDING = "orderpilot.pending"  # the key of a connection's `Pending` in its `info`


class Pending(list[tuple[str, Sequence[Mapping[str, Any]], Then | None]]):
    """PostgreSQL writes sent with the connection's next answer-bearing statement or COMMIT."""

    def checked(self) -> bool:
        """Some queued write has a `then`: its count must be known before a COMMIT is sent."""
        return any(then is not None for _, _, then in self)

    def send(self, driver: Any, tail: Callable[[], Any] | None = None) -> None:
        """Send the queue (then `tail`: the statement that needs an answer, or the COMMIT) in
        one pipeline, and run the `then`s on the counts. A driver error of any of them is
        raised here, the transaction failed (the unit of work rolls back as before)."""
        statements, counted = list(self), []
        self.clear()
        with driver.pipeline():
            for text, rows, then in statements:
                cursor = driver.cursor()
                if len(rows) == 1:
                    cursor.execute(text, rows[0])
                else:
                    cursor.executemany(text, rows)
                if then is not None:
                    counted.append((then, cursor))
            if tail is not None:
                tail()
        for then, cursor in counted:
            then(cursor.rowcount)

    def commit(self, driver: Any) -> None:
        """COMMIT with the queue ahead of it in one round trip; a queue with a `then` is sent
        first (a version check that fails must not travel with a COMMIT)."""
        while self.checked():
            self.send(driver)
        if self:
            self.send(driver, driver.commit)
        else:
            driver.commit()


def pending_of(connection: Connection) -> Pending:
    """The connection's queue of deferred writes (kept with its DBAPI connection)."""
    return connection.info.setdefault(PENDING, Pending())


class Sql:
    """Runs named-parameter SQL on the unit of work's own DBAPI connection."""

    def __init__(self, connection: Connection):
        self.sqlite = connection.dialect.name == "sqlite"
        self._dbapi = connection.connection.driver_connection
        self.pending = None if self.sqlite else pending_of(connection)

    def run(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        cursor = self._dbapi.cursor()
        text, bound = self._text(sql), self._bind(params or {}, self.time)
        if self.pending:
            self.pending.send(self._dbapi, lambda: cursor.execute(text, bound))
        else:
            cursor.execute(text, bound)
        return cursor

    def later(self, sql: str, rows: Sequence[Mapping[str, Any]], then: Then | None = None,
              bind: bool = False) -> None:
        """`bound` (or `many` with `bind`) for a write whose count nobody reads now: on
        PostgreSQL sent with the next statement that needs an answer or the COMMIT, on
        SQLite at once. `check(count)` runs when the count is known, before commit."""
        if not rows:
            return
        if bind:
            times = Times(self)
            rows = [self._bind(r, times) for r in rows]
        if self.pending is None:
            count = self.bound(sql, rows)
            if then is not None:
                then(count)
            return
        self.pending.append((self._text(sql), rows, then))

    def many(self, sql: str, rows: Iterable[Mapping[str, Any]]) -> int:
        """One statement for many rows; each distinct timestamp among them is bound once (a
        sweep's 10,000 credit events share one `at`)."""
        times = Times(self)
        return self.bound(sql, [self._bind(r, times) for r in rows], many=True)

    def bound(self, sql: str, rows: Sequence[Mapping[str, Any]], many: bool = False) -> int:
        """Run for rows whose values are bound already (see `time`, `to_json`); returns the
        row count. One row runs as a plain execute (cheaper than executemany)."""
        cursor, text = self._dbapi.cursor(), self._text(sql)
        if len(rows) == 1 and not many:
            send = lambda: cursor.execute(text, rows[0])  # noqa: E731
        else:
            send = lambda: cursor.executemany(text, rows)  # noqa: E731
        if self.pending:
            self.pending.send(self._dbapi, send)
        else:
            send()
        return cursor.rowcount

    def one(self, sql: str, params: Mapping[str, Any] | None = None) -> Row | None:
        return self.run(sql, params).fetchone()

    def all(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        return self.run(sql, params).fetchall()

    def insert_id(self, sql: str, params: Mapping[str, Any]) -> int:
        """Run an INSERT … RETURNING id (SQLite ≥ 3.35 and PostgreSQL both support it)."""
        return int(self.run(sql + " RETURNING id", params).fetchone()[0])

    def when(self, value: Any) -> datetime | None:
        """A timestamp column as read back: always aware UTC."""
        if value is None:
            return None
        if isinstance(value, str):
            if len(value) == 26 and value[19] == "." or len(value) == 19:
                # the naive UTC text both paths store ('YYYY-MM-DD HH:MM:SS[.ffffff]'), read
                # as UTC at once: `replace(tzinfo=…)` (keyword arguments) cost ~4× the parse
                return datetime.fromisoformat(value + "+00:00")
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def doc(self, value: Any) -> Any:
        """A JSON column as read back."""
        return orjson.loads(value) if isinstance(value, str) else value

    def _text(self, sql: str) -> str:
        return sql if self.sqlite else _pyformat(sql)

    def _bind(self, params: Mapping[str, Any], time: Callable[[datetime], Any]
              ) -> Mapping[str, Any]:
        for value in params.values():
            if isinstance(value, _CONVERTED):
                break
        else:
            return params  # the common case: ints and strings go through untouched
        return {k: (time(v) if isinstance(v, datetime) else to_json(v))
                if isinstance(v, _CONVERTED) else v for k, v in params.items()}

    def time(self, value: datetime) -> Any:
        """A timestamp as this store binds it (refusing naive datetimes)."""
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: orderpilot stores aware UTC only")
        return _sqlite_ts(value) if self.sqlite else value.astimezone(UTC)


class Times:
    """Binds each distinct timestamp once (`Sql.time`): a batch shares a handful of times.
    Equal aware datetimes are the same instant, and bind the same whatever their zone."""

    def __init__(self, sql: Sql, first: datetime | None = None):
        self.sql, self.seen = sql, {}
        if first is not None:  # a batch of one: its step's time, bound up front
            self.seen[first] = sql.time(first)

    def __call__(self, value: datetime) -> Any:
        bound = self.seen.get(value)
        if bound is None:
            bound = self.seen[value] = self.sql.time(value)
        return bound


_CONVERTED = (datetime, dict, list)


def to_json(value: Any) -> str:
    """A JSON document as text: the document `json.dumps(value, default=str, ensure_ascii=False)`
    makes (datetimes and dataclasses through `str`, other keys as strings), in compact form,
    ~10× faster (orjson)."""
    return orjson.dumps(value, default=str, option=_JSON_OPTIONS).decode()


_JSON_OPTIONS = (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
                 | orjson.OPT_NON_STR_KEYS)


def iso_utc(value: datetime) -> str:
    """`value.isoformat()`; for an aware UTC datetime (every time orderpilot keeps) written by
    orjson, the same text (RFC 3339: microseconds only when there are some, "+00:00") at a
    sixth of the instructions — `isoformat` formats through printf, ~12 k instructions, twice
    per transition (its bound time and its event's `at`)."""
    if value.tzinfo is UTC:
        return orjson.dumps(value)[1:-1].decode()
    return value.isoformat()


def _sqlite_ts(value: datetime) -> str:
    if value.tzinfo is UTC:  # the common case: 'YYYY-MM-DD HH:MM:SS.ffffff', iso_utc's figures
        text = iso_utc(value)
        return (f"{text[:10]} {text[11:26]}" if value.microsecond
                else f"{text[:10]} {text[11:19]}.000000")
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


@lru_cache(maxsize=512)
def _pyformat(sql: str) -> str:
    return re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", r"%(\1)s", sql.replace("%", "%%"))


def columns(names: Sequence[str]) -> str:
    return ", ".join(names)


def in_list(column: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """`column IN (:p0, :p1, …)` with its parameters (callers batch to ≤ 10,000 values). No
    values match no row: `IN ()` is a syntax error on PostgreSQL (SQLite accepts it)."""
    if not values:
        return "1 = 0", {}
    params = {f"p{i}": v for i, v in enumerate(values)}
    return f"{column} IN ({', '.join(':' + k for k in params)})", params
