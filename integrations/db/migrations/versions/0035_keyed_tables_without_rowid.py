"""SQLite: the small tables looked up only by their primary key, stored in it (WITHOUT ROWID)

A SQLite table whose primary key is not one INTEGER column is two b-trees: the rows under a
hidden rowid that no query of ours uses, and the primary key's index (`sqlite_autoindex_…`)
that every look-up, upsert and join goes through. Each row written is a page of each in the
COMMIT. Stored WITHOUT ROWID, the table is its primary key's b-tree: the same look-ups, one
b-tree to write. These eight are written by every webhook placement and hold short rows, as
WITHOUT ROWID wants (bench/wal_frames.py --webhook: 57.8 → 51.2 WAL frames a placement in a
store of 2,000 orders; BENCHMARKS.md).
Not `buyers` (a parent of foreign keys: rebuilding it would need foreign keys off, which
cannot change inside the upgrade's transaction), not `webhook_events` (its rows hold the
whole response: long rows belong in a rowid table). PostgreSQL has no rowid: nothing to do.

Revision ID: 0035_keyed_tables_without_rowid
Revises: 0034_risk_facts_recipient_phone
Create Date: 2026-11-29 20:40:00.000000
"""
import re

from alembic import op
from sqlalchemy import text


revision = '0035_keyed_tables_without_rowid'
down_revision = '0034_risk_facts_recipient_phone'
branch_labels = None
depends_on = None

TABLES = ('inbox', 'order_lines', 'risk_decisions', 'risk_buyer_stats', 'risk_buyer_spend',
          'risk_key_buyers', 'risk_key_stats', 'risk_buyer_addresses')


def upgrade() -> None:
    for table in TABLES:
        _rebuild(table, rowid=False)


def downgrade() -> None:
    for table in TABLES:
        _rebuild(table, rowid=True)


def _rebuild(table: str, rowid: bool) -> None:
    """The table made again from its own CREATE statement, with or without the rowid, its rows
    copied and its indexes made again (none of these tables is a foreign key's parent: dropping
    it leaves no reference dangling)."""
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    create = bind.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table' "
                               "AND name = :t"), {'t': table}).scalar_one()
    indexes = bind.execute(text("SELECT sql FROM sqlite_master WHERE type = 'index' AND "
                                "tbl_name = :t AND sql IS NOT NULL"), {'t': table}).scalars().all()
    body = re.sub(r'\)\s*(WITHOUT\s+ROWID\s*)?$', ')', create.strip(), flags=re.I)
    body = re.sub(r'^CREATE TABLE\s+("?)' + table + r'\1(?=[\s(])',
                  f'CREATE TABLE "_new_{table}"', body)
    bind.exec_driver_sql(body if rowid else body + " WITHOUT ROWID")
    bind.exec_driver_sql(f'INSERT INTO "_new_{table}" SELECT * FROM "{table}"')
    bind.exec_driver_sql(f'DROP TABLE "{table}"')
    bind.exec_driver_sql(f'ALTER TABLE "_new_{table}" RENAME TO "{table}"')
    for index in indexes:
        bind.exec_driver_sql(index)
