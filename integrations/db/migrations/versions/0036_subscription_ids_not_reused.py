"""Webhook subscription numbers are never given twice on SQLite (AUTOINCREMENT)

SQLite gives a new row the highest rowid + 1: once the newest subscription was removed, the
next one added got its number. A removal sent twice (an ops script resending, two servers) then
removed the new subscription under the old one's number (races/test_http_command_races.py), and
a pause or re-send meant for a removed one acted on another. AUTOINCREMENT keeps numbers
growing. SQLite adds it only by rebuilding the table; its deliveries reference it (a foreign key
checked on drop), so they are set aside and put back around the rebuild, unchanged. PostgreSQL's
identity never gives a number twice: nothing to do there. A downgrade keeps AUTOINCREMENT (the
older code only reads and writes rows; numbers that keep growing are what it needs too).

Revision ID: 0036_subscription_ids_not_reused
Revises: 0035_keyed_tables_without_rowid
Create Date: 2026-11-29 21:25:00
"""
from alembic import op


revision = '0036_subscription_ids_not_reused'
down_revision = '0035_keyed_tables_without_rowid'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE TABLE _kept_webhook_deliveries AS SELECT * FROM webhook_deliveries")
    op.execute("DELETE FROM webhook_deliveries")
    with op.batch_alter_table('webhook_subscriptions', recreate='always',
                              table_kwargs={'sqlite_autoincrement': True}):
        pass
    op.execute("INSERT INTO webhook_deliveries SELECT * FROM _kept_webhook_deliveries")
    op.execute("DROP TABLE _kept_webhook_deliveries")


def downgrade() -> None:
    pass
