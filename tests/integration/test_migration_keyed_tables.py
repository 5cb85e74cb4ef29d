"""Migration 0035: on SQLite the small tables looked up by their key are stored in it (WITHOUT
ROWID, as the models say), with their rows, indexes and constraints, and back on downgrade."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from integrations.db.engine import make_engine
from integrations.db.migrate import alembic_config
from integrations.db.schema import Base

KEYED = "0035_keyed_tables_without_rowid"
BEFORE = ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(KEYED).down_revision
ROWS = {  # one row a table, as placement writes them
    "inbox": "('shop:e-1', 'place', '{\"target\": 1}', '2026-11-11 10:00:00')",
    "order_lines": "(1, 1, '龙井-250G', 2, 12800, 0)",
    "risk_decisions": "(1, 'live', 'default', 'approve', 0.0, '[]', '2026-11-11 10:00:00')",
    "risk_buyer_stats": "('b-1', 1, 0, 0, 0)",
    "risk_buyer_spend": "('b-1', 'CNY', 1, 25600)",
    "risk_key_buyers": "('device', 'd-1', 'b-1')",
    "risk_key_stats": "('device', 'd-1', 1)",
    "risk_buyer_addresses": "('b-1', 'CN|330106|文三路|18', '2026-11-11 10:00:00')",
}
BORN_KEYED = {"install_secrets"}  # made WITHOUT ROWID by 0038, not rebuilt by 0035


def _migrate(url: str, to: str, down: bool = False) -> None:
    engine = make_engine(url)
    config = alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, to)
    engine.dispose()


def _tables(url: str) -> dict[str, str]:
    engine = make_engine(url)
    with engine.connect() as connection:
        made = dict(connection.execute(text("SELECT name, sql FROM sqlite_master "
                                            "WHERE type = 'table'")).all())
    engine.dispose()
    return made


def _without_rowid(sql: str) -> bool:
    return sql.rstrip().upper().endswith("WITHOUT ROWID")


def test_every_table_is_stored_as_its_model_says_after_the_upgrade(empty_sqlite_url):
    # Given an empty SQLite store upgraded to the head
    _migrate(empty_sqlite_url, "head")
    made = _tables(empty_sqlite_url)
    # Then each table keeps or drops its rowid exactly as its model declares
    for name, table in Base.metadata.tables.items():
        declared = table.dialect_options["sqlite"]["with_rowid"] is False
        assert _without_rowid(made[name]) is declared, name
    assert {n for n, t in Base.metadata.tables.items()
            if t.dialect_options["sqlite"]["with_rowid"] is False} == set(ROWS) | BORN_KEYED


def test_the_upgrade_keeps_rows_indexes_and_constraints_and_the_downgrade_gives_rowids_back(
        empty_sqlite_url):
    # Given a store at the revision before, one order and a row in each table
    _migrate(empty_sqlite_url, BEFORE)
    engine = make_engine(empty_sqlite_url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO buyers VALUES ('b-1', '2026-11-11 10:00:00', 100)"))
        connection.execute(text(
            "INSERT INTO orders (id, buyer_id, state, version, currency, total, paid, refunded, "
            "attrs, created_at, updated_at) VALUES (1, 'b-1', 'created', 1, 'CNY', 25600, 0, 0, "
            "'{}', '2026-11-11 10:00:00', '2026-11-11 10:00:00')"))
        for table, row in ROWS.items():
            connection.execute(text(f"INSERT INTO {table} VALUES {row}"))
    # When it is upgraded
    _migrate(empty_sqlite_url, KEYED)
    # Then every row is still there, in tables without a rowid
    made = _tables(empty_sqlite_url)
    assert all(_without_rowid(made[table]) for table in ROWS)
    with engine.connect() as connection:
        for table in ROWS:
            assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 1
        # And the index on decisions is back, and the key look-ups read the key's b-tree
        plan = " ".join(r[-1] for r in connection.execute(text(
            "EXPLAIN QUERY PLAN SELECT * FROM risk_decisions WHERE mode = 'live' "
            "AND decided_at > '2026-11-01'")))
        assert "ix_risk_decisions_time" in plan, plan
    # And the keys, the check and the foreign key still refuse what they refused
    for bad in ("INSERT INTO inbox VALUES ('shop:e-1', 'place', '{}', '2026-11-11 10:00:00')",
                "INSERT INTO order_lines VALUES (1, 2, 'SKU', 1, 100, 2)",  # refunded > quantity
                "INSERT INTO order_lines VALUES (99, 1, 'SKU', 1, 100, 0)"):  # no order 99
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text(bad))
    engine.dispose()
    # When it is downgraded again, the rowids are back and the rows kept
    _migrate(empty_sqlite_url, BEFORE, down=True)
    made = _tables(empty_sqlite_url)
    assert not any(_without_rowid(made[table]) for table in ROWS)
    engine = make_engine(empty_sqlite_url)
    with engine.connect() as connection:
        assert all(connection.execute(text(f"SELECT count(*) FROM {t}")).scalar() == 1
                   for t in ROWS)
    engine.dispose()
