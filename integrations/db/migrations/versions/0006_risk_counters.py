"""risk counters: buyer stats and spend, buyers per device / IP, buyer addresses (backfilled)

Revision ID: 0006_risk_counters
Revises: 0005_fulfilment
Create Date: 2026-11-27 09:30:00
"""
from alembic import op
import sqlalchemy as sa
import integrations.db.schema


revision = '0006_risk_counters'
down_revision = '0005_fulfilment'
branch_labels = None
depends_on = None

# Counters start from what the rows already say, so an upgraded store decides as before.
BACKFILL = (
    """INSERT INTO risk_buyer_stats (buyer_id, orders, cancelled, completed, disputes)
       SELECT f.buyer_id, count(*),
              sum(CASE WHEN o.state = 'cancelled' THEN 1 ELSE 0 END),
              sum(CASE WHEN o.state = 'completed' THEN 1 ELSE 0 END),
              (SELECT count(*) FROM risk_credit_events e WHERE e.buyer_id = f.buyer_id
                 AND e.kind IN ('chargeback', 'malicious_refund'))
       FROM risk_order_facts f JOIN orders o ON o.id = f.order_id GROUP BY f.buyer_id""",
    """INSERT INTO risk_buyer_spend (buyer_id, currency, orders, amount)
       SELECT buyer_id, currency, count(*), sum(amount) FROM risk_order_facts
       GROUP BY buyer_id, currency""",
    """INSERT INTO risk_key_buyers (kind, value, buyer_id)
       SELECT DISTINCT 'device', device_id, buyer_id FROM risk_order_facts
       WHERE device_id IS NOT NULL""",
    """INSERT INTO risk_key_buyers (kind, value, buyer_id)
       SELECT DISTINCT 'ip', ip, buyer_id FROM risk_order_facts WHERE ip IS NOT NULL""",
    """INSERT INTO risk_key_stats (kind, value, buyers)
       SELECT kind, value, count(*) FROM risk_key_buyers GROUP BY kind, value""",
    """INSERT INTO risk_buyer_addresses (buyer_id, address_key, last_seen)
       SELECT buyer_id, address_norm, max(placed_at) FROM risk_order_facts
       WHERE address_norm IS NOT NULL GROUP BY buyer_id, address_norm""",
)


def upgrade() -> None:
    op.create_table('risk_buyer_addresses',
    sa.Column('buyer_id', sa.String(length=64), nullable=False),
    sa.Column('address_key', sa.String(length=500), nullable=False),
    sa.Column('last_seen', integrations.db.schema.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('buyer_id', 'address_key', name=op.f('pk_risk_buyer_addresses'))
    )
    op.create_table('risk_buyer_spend',
    sa.Column('buyer_id', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('buyer_id', 'currency', name=op.f('pk_risk_buyer_spend'))
    )
    op.create_table('risk_buyer_stats',
    sa.Column('buyer_id', sa.String(length=64), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('cancelled', sa.Integer(), nullable=False),
    sa.Column('completed', sa.Integer(), nullable=False),
    sa.Column('disputes', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('buyer_id', name=op.f('pk_risk_buyer_stats'))
    )
    op.create_table('risk_key_buyers',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=128), nullable=False),
    sa.Column('buyer_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'value', 'buyer_id', name=op.f('pk_risk_key_buyers'))
    )
    op.create_table('risk_key_stats',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=128), nullable=False),
    sa.Column('buyers', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'value', name=op.f('pk_risk_key_stats'))
    )
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table('risk_key_stats')
    op.drop_table('risk_key_buyers')
    op.drop_table('risk_buyer_stats')
    op.drop_table('risk_buyer_spend')
    op.drop_table('risk_buyer_addresses')
