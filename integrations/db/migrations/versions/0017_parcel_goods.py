"""a sold unit knows the replacement parcel a claim's reship sent it in

stock_holds.shipment_id: set by a reship on the units it takes for its replacement parcels;
None for the units `ship` sent (one parcel per warehouse). A parcel's goods were the order's sold
units in its warehouse: a replacement leaving from the warehouse of another parcel of the order
was counted into that parcel's loss (refunded while on its way), and its own loss was then
refused. Rows written before stay None: their parcel is found by warehouse, as before.

Revision ID: 0017_parcel_goods
Revises: 0016_address_keys_simplified
Create Date: 2026-11-28 13:45:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0017_parcel_goods'
down_revision = '0016_address_keys_simplified'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('stock_holds', sa.Column('shipment_id', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('stock_holds') as batch:
        batch.drop_column('shipment_id')
