"""verification challenges: step-up verification of orders (code hash, attempts, outcome)

Revision ID: 0008_verification
Revises: 0007_connect
Create Date: 2026-11-27 09:40:00
"""
from alembic import op
import sqlalchemy as sa
import integrations.db.schema


revision = '0008_verification'
down_revision = '0007_connect'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('verification_challenges',
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', integrations.db.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', integrations.db.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', integrations.db.schema.UtcDateTime(timezone=True), nullable=True),
    sa.Column('send_failed_at', integrations.db.schema.UtcDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('decided_at', integrations.db.schema.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_verification_challenges_order_id_orders')),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_verification_challenges'))
    )


def downgrade() -> None:
    op.drop_table('verification_challenges')
