"""Hot-path SQL binding (integrations/db/sql.py) on both stores: `Sql.many` binds each distinct
timestamp once per call and writes what one `Sql.run` per row writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import create_engine

from integrations.db.sql import Sql, in_list

AT = datetime(2026, 11, 11, 9, 21, 0, 123456, tzinfo=UTC)
INSERT = "INSERT INTO stamps (n, at, doc) VALUES (:n, :at, :doc)"


def test_many_binds_each_distinct_time_once_and_writes_what_single_runs_write(any_url,
                                                                              monkeypatch):
    # Given a sweep-like batch: most rows share one time, one row a second, one row the first
    # instant written in another zone, each with a JSON document
    rows = [{"n": n, "at": AT + timedelta(seconds=n % 5 == 4), "doc": {"n": n, "至": "✓"}}
            for n in range(10)]
    rows.append({"n": 10, "at": AT.astimezone(timezone(timedelta(hours=8))), "doc": [10]})
    bound: list[datetime] = []
    real_time = Sql.time
    monkeypatch.setattr(Sql, "time", lambda self, value: (bound.append(value),
                                                          real_time(self, value))[1])
    engine = create_engine(any_url)
    try:
        with engine.begin() as connection:
            sql = Sql(connection)
            kind = "TEXT" if sql.sqlite else "TIMESTAMP WITH TIME ZONE"
            sql.run(f"CREATE TEMPORARY TABLE stamps (n INTEGER, at {kind}, doc TEXT)")
            # When the batch is written in one call, then each distinct instant was bound once
            sql.many(INSERT, rows)
            assert len(bound) == 2
            # and the rows are those written one statement each
            for row in rows:
                sql.run(INSERT, {**row, "n": row["n"] + 100})
            many = sql.all("SELECT n, at, doc FROM stamps WHERE n < 100 ORDER BY n")
            single = sql.all("SELECT n - 100, at, doc FROM stamps WHERE n >= 100 ORDER BY n")
    finally:
        engine.dispose()
    assert many == single and len(many) == 11
    assert {sql.when(at) for _, at, _ in many} == {AT, AT + timedelta(seconds=1)}


def test_an_in_list_matches_its_values_and_an_empty_one_matches_nothing(any_url):
    engine = create_engine(any_url)
    try:
        with engine.begin() as connection:
            sql = Sql(connection)
            sql.run("CREATE TEMPORARY TABLE picks (n INTEGER)")
            sql.many("INSERT INTO picks (n) VALUES (:n)", [{"n": n} for n in range(5)])
            for wanted, found in (([1, 3], [1, 3]), ([], [])):  # `IN ()` fails on PostgreSQL
                where, params = in_list("n", wanted)
                assert [r[0] for r in sql.all(f"SELECT n FROM picks WHERE {where} ORDER BY n",
                                              params)] == found
    finally:
        engine.dispose()
