"""the money sweep reads only open payments; the console's counts read indexes (bench/hot_scans.py)

payment_operations.swept_at: a checkout the money sweep found closed for good (failed, its order
paid, its payment released or refunded), set here for the history and by each sweep after; a
partial index of the others (kind = 'checkout' AND swept_at IS NULL) is what the sweep reads.
orders (id) of unpayable, unpaid orders holding a payment ref (partial): the sweep's other
look-up. orders (created_at): the console's placements of the last day. webhook_events
(source, status_code, applied): the console's outcomes by source, read from the index only.

Revision ID: 0015_sweep_and_health_indexes
Revises: 0014_hot_path_indexes
Create Date: 2026-11-28 09:30:00.000000
"""
from alembic import op
import sqlalchemy as sa

import integrations.db.schema


revision = '0015_sweep_and_health_indexes'
down_revision = '0014_hot_path_indexes'
branch_labels = None
depends_on = None

OPEN_CHECKOUT = sa.text("kind = 'checkout' AND swept_at IS NULL")
UNPAID_PAYMENT = sa.text("paid = 0 AND state IN ('expired', 'cancelled', 'rejected') AND "
                         "payment_ref IS NOT NULL")
SWEPT = (  # integrations/db/money_store.py SWEEP_CHECKOUTS, as of this revision
    "UPDATE payment_operations SET swept_at = CURRENT_TIMESTAMP WHERE kind = 'checkout' AND "
    "swept_at IS NULL AND (status = 'failed' OR EXISTS (SELECT 1 FROM orders o WHERE o.id = "
    "payment_operations.order_id AND o.paid > 0) OR provider_ref IS NOT NULL AND EXISTS ("
    "SELECT 1 FROM payment_operations v WHERE v.order_id = payment_operations.order_id AND "
    "v.kind IN ('void', 'refund') AND v.payment_ref = payment_operations.provider_ref))")


def upgrade() -> None:
    op.add_column('payment_operations', sa.Column('swept_at', integrations.db.schema.UtcDateTime(timezone=True),
                                            nullable=True))
    op.execute(SWEPT)
    op.create_index('ix_payment_operations_open_checkouts', 'payment_operations', ['id'],
                    unique=False, sqlite_where=OPEN_CHECKOUT, postgresql_where=OPEN_CHECKOUT)
    op.create_index('ix_orders_unpaid_payment', 'orders', ['id'], unique=False,
                    sqlite_where=UNPAID_PAYMENT, postgresql_where=UNPAID_PAYMENT)
    op.create_index('ix_orders_created_at', 'orders', ['created_at'], unique=False)
    op.create_index('ix_webhook_events_outcome', 'webhook_events',
                    ['source', 'status_code', 'applied'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_webhook_events_outcome', table_name='webhook_events')
    op.drop_index('ix_orders_created_at', table_name='orders')
    op.drop_index('ix_orders_unpaid_payment', table_name='orders')
    op.drop_index('ix_payment_operations_open_checkouts', table_name='payment_operations')
    with op.batch_alter_table('payment_operations') as batch:
        batch.drop_column('swept_at')
