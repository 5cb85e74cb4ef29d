"""Statements generated from the typed tables (integrations/db/rows.py): each names the
columns it is given, and refuses a name that is not a column of its table."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, UniqueConstraint

from integrations.db import records, risk_credit, writer
from integrations.db.records import EVENTS
from integrations.db.rows import (
    LINES,
    ORDERS,
    check_row,
    insert_sql,
    nulls_filled,
    select_sql,
    update_sql,
    upsert_sql,
    written,
)


def _table(*extra: Column) -> Table:
    return Table("things", MetaData(), Column("id", Integer, primary_key=True),
                 Column("name", String), *extra)


def test_statements_name_the_columns_they_are_given():
    table = _table(Column("size", Integer))
    assert select_sql(table, ["name", "size"], where=["id"]) == (
        "SELECT name, size FROM things WHERE id = :id")
    assert insert_sql(table, table.c.keys()) == (
        "INSERT INTO things (id, name, size) VALUES (:id, :name, :size)")
    assert update_sql(table, ["name", "size"], where=["id"], params={"size": "new_size"}) == (
        "UPDATE things SET name = :name, size = :new_size WHERE id = :id")


@pytest.mark.parametrize("build", [
    lambda t: select_sql(t, ["name", "colour"]),
    lambda t: insert_sql(t, ["colour"]),
    lambda t: update_sql(t, ["name"], where=["colour"])])
def test_a_name_that_is_not_a_column_is_refused_when_the_statement_is_built(build):
    with pytest.raises(ValueError, match=r"things: no column \['colour'\]"):
        build(_table())


def test_the_event_log_statements_are_the_tables_columns():
    assert insert_sql(EVENTS, EVENTS.c.keys()) == records.EVENT_PUT
    assert set(EVENTS.c.keys()) == records.EVENT_KEYS
    assert records.EVENT_FINISH.endswith(" WHERE key = :key")


def test_an_aggregate_update_is_version_checked_and_a_line_update_is_by_its_key():
    assert ORDERS.update.endswith(
        "version = :new_version, updated_at = :at WHERE id = :id AND version = :version")
    assert LINES.update == ("UPDATE order_lines SET refunded_quantity = :refunded_quantity "
                            "WHERE order_id = :order_id AND line_no = :line_no")
    assert LINES.insert.startswith("INSERT INTO order_lines (order_id, line_no, sku, ")


def test_a_payment_record_is_inserted_with_every_column_but_its_id():
    columns = [c.name for c in records.PAYMENTS.columns if c.name != "id"]
    assert insert_sql(records.PAYMENTS, columns) == records.PAYMENT_ADD


def test_the_writer_appends_every_column_of_history_and_upserts_deadlines_on_their_key():
    appended = [c.name for c in writer.HISTORY.columns if c.name != "id"]
    assert insert_sql(writer.HISTORY, appended) == writer.HISTORY_INSERT
    unique = {tuple(c.name for c in u.columns) for u in writer.DEADLINES.constraints
              if isinstance(u, UniqueConstraint)}
    assert writer.DEADLINE_KEY in unique
    assert writer.DEADLINE_UPSERT.endswith(
        "DO UPDATE SET order_id = excluded.order_id, due_at = excluded.due_at")


def test_an_insert_names_every_column_but_those_left_out_and_a_row_must_name_them_all():
    table = _table(Column("size", Integer))
    columns = written(table)  # the id is the database's
    assert columns == ("name", "size")
    with pytest.raises(ValueError, match=r"things: no value for \['size'\], no column \[\]"):
        check_row(table, frozenset(columns), {"name": "a"})
    with pytest.raises(ValueError, match=r"things: no column \['colour'\]"):
        written(table, but=("colour",))


def test_a_row_may_leave_out_nullable_columns_only_which_are_written_null():
    table = _table(Column("size", Integer, nullable=True), Column("kind", Integer,
                                                                  nullable=False))
    columns = written(table)
    assert nulls_filled(table, columns, {"name": "a", "kind": 1}) == {
        "name": "a", "size": None, "kind": 1}
    with pytest.raises(ValueError, match=r"things: no value for \['kind'\], no column \[\]"):
        nulls_filled(table, columns, {"name": "a", "size": 2})
    with pytest.raises(ValueError, match=r"things: no value for \[\], no column \['colour'\]"):
        nulls_filled(table, columns, {"name": "a", "kind": 1, "colour": "red"})


def test_a_payment_record_without_its_amount_is_refused_before_the_driver_sees_it():
    values = {"order_id": 1, "kind": "capture", "currency": "CNY", "at": None}
    with pytest.raises(ValueError, match=r"payment_records: no value for \['amount'\]"):
        records.payment_add(None, values)  # type: ignore[arg-type] - refused before it runs


def test_a_credit_event_row_that_leaves_out_a_column_is_refused_before_the_driver_sees_it():
    assert risk_credit.INSERT_SQL == (
        "INSERT INTO risk_credit_events (buyer_id, kind, order_id, note, before, after, actor, "
        "at) VALUES (:buyer_id, :kind, :order_id, :note, :before, :after, :actor, :at)")
    row = {"buyer_id": "b-1", "kind": "cancel", "order_id": 1, "before": 100, "after": 90,
           "actor": "system", "at": None}  # no note: as if note were a column added later
    with pytest.raises(ValueError, match=r"risk_credit_events: no value for \['note'\]"):
        risk_credit.add_event(None, row)  # type: ignore[arg-type] - refused before it runs


def test_an_upsert_names_its_conflict_key_which_must_be_unique():
    table = _table(Column("size", Integer), UniqueConstraint("name"))
    assert upsert_sql(table, ["name", "size"], key=["name"]) == (
        "INSERT INTO things (name, size) VALUES (:name, :size) ON CONFLICT (name) DO NOTHING")
    assert upsert_sql(table, ["name", "size"], key=["name"], update=["size"]).endswith(
        " ON CONFLICT (name) DO UPDATE SET size = excluded.size")
    with pytest.raises(ValueError, match=r"things: \['size'\] is not a unique key"):
        upsert_sql(table, ["name", "size"], key=["size"])
