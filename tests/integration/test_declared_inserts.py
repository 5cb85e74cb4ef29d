"""One declared INSERT per table (integrations/db/rows.py `Insert`): its columns and statement
come from the table, a row naming other columns is refused by name before any statement runs,
and rows are written in one statement, on a real store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, UniqueConstraint, create_engine

from integrations.db.rows import Insert, insert_sql
from integrations.db.sql import Sql

METADATA = MetaData()
THINGS = Table("things", METADATA, Column("id", Integer, primary_key=True),
               Column("name", String(20), nullable=False), Column("size", Integer),
               UniqueConstraint("name"))
THING = Insert(THINGS)  # the id is the database's
THING_ONCE = Insert(THINGS, key=("name",))
THING_LATEST = Insert(THINGS, key=("name",), update=("size",))


@pytest.fixture
def sql(empty_url: str) -> Iterator[Sql]:
    """The things table on a store of its own (a SQLite file; PostgreSQL when reachable), in
    one open transaction."""
    engine = create_engine(empty_url)
    try:
        with engine.begin() as connection:
            METADATA.create_all(connection)
            yield Sql(connection)
    finally:
        engine.dispose()


def _things(sql: Sql) -> list[tuple[str, int | None]]:
    return [tuple(r) for r in sql.all("SELECT name, size FROM things ORDER BY name")]


def test_an_insert_names_every_column_but_those_left_out_and_an_upsert_adds_its_conflict():
    assert THING.columns == ("name", "size")
    assert THING.sql == insert_sql(THINGS, ("name", "size")) == (
        "INSERT INTO things (name, size) VALUES (:name, :size)")
    assert Insert(THINGS, but=()).columns == ("id", "name", "size")
    assert THING_ONCE.sql == THING.sql + " ON CONFLICT (name) DO NOTHING"
    assert THING_LATEST.sql == THING.sql + " ON CONFLICT (name) DO UPDATE SET size = excluded.size"


@pytest.mark.parametrize("declare, refusal", [
    pytest.param(lambda: Insert(THINGS, but=("colour",)), r"things: no column \['colour'\]",
                 id="unknown-column"),
    pytest.param(lambda: Insert(THINGS, key=("size",)), r"things: \['size'\] is not a unique key",
                 id="key-not-unique"),
    pytest.param(lambda: Insert(THINGS, update=("size",)), r"DO UPDATE needs a conflict key",
                 id="update-without-key")])
def test_a_declaration_naming_what_the_table_cannot_do_is_refused_when_built(declare, refusal):
    with pytest.raises(ValueError, match=refusal):
        declare()


@pytest.mark.parametrize("bad, refusal", [
    pytest.param({"name": "b"}, r"things: no value for \['size'\], no column \[\]",
                 id="missing-column"),
    pytest.param({"name": "b", "size": 2, "colour": "red"},
                 r"things: no value for \[\], no column \['colour'\]", id="unknown-column")])
def test_a_row_without_a_column_or_with_an_unknown_one_is_refused_by_name_and_nothing_is_written(
        sql, bad, refusal):
    # Given a good row followed by a bad one
    good = {"name": "a", "size": 1}
    # When they are written, together or the bad one alone (any way a store writes)
    for write in (lambda: THING.write(sql, [good, bad]), lambda: THING.write_row(sql, bad),
                  lambda: THING.write_id(sql, bad), lambda: THING_ONCE.write(sql, [good, bad])):
        # Then the bad row is refused by name
        with pytest.raises(ValueError, match=refusal):
            write()
    # and no statement ran: not even the good row was written
    assert _things(sql) == []


def test_one_row_is_one_execute_several_are_one_executemany_and_none_runs_nothing(
        sql, monkeypatch):
    # Given the store's statements counted as they run
    ran: list[str] = []
    for name in ("run", "many"):
        real = getattr(Sql, name)
        monkeypatch.setattr(Sql, name, lambda self, statement, params, _real=real, _name=name: (
            ran.append(_name), _real(self, statement, params))[1])
    # When one row, then three, then none are written
    one = THING.write(sql, [{"name": "a", "size": 1}])
    three = THING.write(sql, [{"name": n, "size": s} for n, s in (("b", 2), ("c", None),
                                                                  ("d", 4))])
    none = THING.write(sql, [])
    # Then each call was one statement (none for none), counting the rows it wrote
    assert ran == ["run", "many"]
    assert (one, three, none) == (1, 3, 0)
    assert _things(sql) == [("a", 1), ("b", 2), ("c", None), ("d", 4)]


def test_a_row_written_for_its_id_gets_the_id_the_database_gave_it(sql):
    first = THING.write_id(sql, {"name": "a", "size": 1})
    second = THING.write_id(sql, {"name": "b", "size": 2})
    assert second != first
    assert sql.one("SELECT name FROM things WHERE id = :id", {"id": second}) == ("b",)


def test_an_upsert_keeps_the_first_row_of_a_key_or_takes_the_named_columns_of_a_repeat(sql):
    # Given a thing written once
    assert THING_ONCE.write_row(sql, {"name": "a", "size": 1}) == 1
    # When it is written again with DO NOTHING, then nothing is written and the first stays
    assert THING_ONCE.write_row(sql, {"name": "a", "size": 2}) == 0
    assert _things(sql) == [("a", 1)]
    # When it is written again with DO UPDATE of its size, then the repeat's size wins
    assert THING_LATEST.write(sql, [{"name": "a", "size": 3}, {"name": "b", "size": 4}]) == 2
    assert _things(sql) == [("a", 3), ("b", 4)]
