"""risk_order_facts.recipient_phone_norm: the shipping address's number when the buyer sent
another of their own (before, only one number per order was kept: the buyer's), indexed with
placed_at as phone_norm is, so phone_velocity counts a number in either column by index
ranges. Rows placed before keep NULL: they leave the rule's one-day window within a day.

Revision ID: 0034_risk_facts_recipient_phone
Revises: 0033_dispute_kind
Create Date: 2026-11-29 20:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0034_risk_facts_recipient_phone'
down_revision = '0033_dispute_kind'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('risk_order_facts',
                  sa.Column('recipient_phone_norm', sa.String(length=40), nullable=True))
    op.create_index('ix_risk_facts_recipient_phone', 'risk_order_facts',
                    ['recipient_phone_norm', 'placed_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_risk_facts_recipient_phone', table_name='risk_order_facts')
    op.drop_column('risk_order_facts', 'recipient_phone_norm')
