"""connect: parcels say their purpose (order, return, replacement, repaired) and their case

Revision ID: 0012_case_parcels
Revises: 0011_parcel_progress
Create Date: 2026-11-27 12:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_case_parcels'
down_revision = '0011_parcel_progress'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=16), server_default='order', nullable=False))
        batch_op.add_column(sa.Column('case_id', sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f('ix_shipments_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipments_case_id'))
        batch_op.drop_column('case_id')
        batch_op.drop_column('purpose')
