"""indexes for three hot-path look-ups that read a whole table (bench/hot_scans.py)

payment_operations.provider_ref: a payment webhook without our order id finds its order by
the provider's reference. risk_blacklist_entries (kind, value): every placement looks its keys
up in both lists (not partial: SQLite's OR plan would not use it). outbox (order_id,
created_at) of review escalations only (partial): the review queue's escalation times.

Revision ID: 0014_hot_path_indexes
Revises: 0013_waybill_index
Create Date: 2026-11-28 06:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0014_hot_path_indexes'
down_revision = '0013_waybill_index'
branch_labels = None
depends_on = None

ESCALATION = sa.text("event = 'orderpilot.order.review_overdue'")


def upgrade() -> None:
    op.create_index('ix_payment_operations_provider_ref', 'payment_operations',
                    ['provider_ref'], unique=False)
    op.create_index('ix_risk_lists_match', 'risk_blacklist_entries', ['kind', 'value'],
                    unique=False)
    op.create_index('ix_outbox_review_overdue', 'outbox', ['order_id', 'created_at'],
                    unique=False, sqlite_where=ESCALATION, postgresql_where=ESCALATION)


def downgrade() -> None:
    op.drop_index('ix_outbox_review_overdue', table_name='outbox')
    op.drop_index('ix_risk_lists_match', table_name='risk_blacklist_entries')
    op.drop_index('ix_payment_operations_provider_ref', table_name='payment_operations')
