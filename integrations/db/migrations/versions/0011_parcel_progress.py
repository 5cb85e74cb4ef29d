"""parcel progress: shipments.reached, the furthest state a parcel got to (a stalled parcel
never moves back behind it); shipments.stall_reason as wide as every other reason (500)

Revision ID: 0011_parcel_progress
Revises: 0010_risk_lists
Create Date: 2026-11-27 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_parcel_progress'
down_revision = '0010_risk_lists'
branch_labels = None
depends_on = None

ON_THE_WAY = "('label_created', 'picked_up', 'in_transit', 'out_for_delivery', 'delivered')"


def upgrade() -> None:
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reached', sa.String(length=32), nullable=True))
        batch_op.alter_column('stall_reason', existing_type=sa.String(length=200),
                              type_=sa.String(length=500), existing_nullable=True)
    # parcels on the way are where they are; the others (stalled, lost, returned) got as far
    # as the last state on the way their history shows
    op.execute(f"UPDATE shipments SET reached = state WHERE state IN {ON_THE_WAY}")
    op.execute(
        "UPDATE shipments SET reached = (SELECT h.to_state FROM transition_history h "
        "WHERE h.entity = 'shipment' AND h.entity_id = shipments.id "
        f"AND h.to_state IN {ON_THE_WAY} ORDER BY h.id DESC LIMIT 1) WHERE reached IS NULL")


def downgrade() -> None:
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.alter_column('stall_reason', existing_type=sa.String(length=500),
                              type_=sa.String(length=200), existing_nullable=True)
        batch_op.drop_column('reached')
