"""risk_order_facts: an index on (phone_norm, placed_at) for the phone_velocity rule, which
counts the other buyers whose orders in its window went to an order's phone (an index range,
as velocity by address is: bounded by that number's orders in the window, not the history)

Revision ID: 0031_risk_facts_phone_index
Revises: 0030_waybill_counter_prefixes
Create Date: 2026-11-29 18:00:00.000000
"""
from alembic import op


revision = '0031_risk_facts_phone_index'
down_revision = '0030_waybill_counter_prefixes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_risk_facts_phone', 'risk_order_facts', ['phone_norm', 'placed_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_risk_facts_phone', table_name='risk_order_facts')
