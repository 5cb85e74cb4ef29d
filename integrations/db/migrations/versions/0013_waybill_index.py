"""shipments: an index on the waybill (tracking_no, carrier) that every carrier scan looks up

Revision ID: 0013_waybill_index
Revises: 0012_case_parcels
Create Date: 2026-11-28 05:15:00.000000
"""
from alembic import op


revision = '0013_waybill_index'
down_revision = '0012_case_parcels'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_shipments_waybill', 'shipments', ['tracking_no', 'carrier'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_shipments_waybill', table_name='shipments')
