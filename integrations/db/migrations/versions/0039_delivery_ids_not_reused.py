"""Webhook delivery numbers are never given twice on SQLite (AUTOINCREMENT), as 0036 did for
subscriptions

Removing a subscription deletes its deliveries. SQLite gives a new row the highest rowid + 1,
so once the newest delivery went with its subscription, the next delivery written took its
number (`dl-N`). The relay claims a delivery, sends it outside any transaction and then records
the answer by number: a subscription removed meanwhile left that number to the next order's
event, which was then marked delivered and never sent
(tests/integration/connect/test_delivery_numbers.py); a `resend dl-N` meant for a removed
subscription's dead letter re-queued another's. AUTOINCREMENT keeps numbers growing. SQLite
adds it only by rebuilding the table; nothing references a delivery, so the rows are copied
as they are (numbers, indexes and the foreign key to the subscription kept). A store already
rebuilt (an upgrade after a downgrade) is left alone: a second rebuild would start the counter
again from the highest number kept. PostgreSQL's identity never gives a number twice: nothing
to do there. A downgrade keeps AUTOINCREMENT (the older code only reads and writes rows;
numbers that keep growing are what it needs too).

Checked and not rebuilt (every table rows are deleted from): `deadlines` — its numbers are
never shown or kept outside the store, and the sweep reads and deletes due rows in one write
transaction (exclusive on SQLite), so a number cannot change hands in between;
`carrier_kpis` and `risk_buyer_addresses` are keyed by what they are about (a carrier, a buyer
and address), not by a number.

Revision ID: 0039_delivery_ids_not_reused
Revises: 0037_stripe_closed_inquiries
Create Date: 2026-11-30 00:20:00
"""
from alembic import op
from sqlalchemy import text


revision = '0039_delivery_ids_not_reused'
down_revision = '0037_stripe_closed_inquiries'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    ddl = bind.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND "
                            "name = 'webhook_deliveries'")).scalar()
    if "AUTOINCREMENT" in (ddl or "").upper():
        return
    with op.batch_alter_table('webhook_deliveries', recreate='always',
                              table_kwargs={'sqlite_autoincrement': True}):
        pass


def downgrade() -> None:
    pass
