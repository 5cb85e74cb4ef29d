"""risk lists: block and allow lists with expiry and the value as typed; decisions by time

Revision ID: 0010_risk_lists
Revises: 0009_money
Create Date: 2026-11-27 10:25:00
"""
from alembic import op
import sqlalchemy as sa
import integrations.db.schema


revision = '0010_risk_lists'
down_revision = '0009_money'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('risk_blacklist_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('list_name', sa.String(length=8), server_default='block',
                                      nullable=False))
        batch_op.add_column(sa.Column('shown', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('expires_at',
                                      integrations.db.schema.UtcDateTime(timezone=True),
                                      nullable=True))
        batch_op.drop_index('uq_risk_blacklist_active', sqlite_where=sa.text('removed_at IS NULL'), postgresql_where=sa.text('removed_at IS NULL'))
        batch_op.create_index('uq_risk_lists_active', ['list_name', 'kind', 'value'], unique=True, sqlite_where=sa.text('removed_at IS NULL'), postgresql_where=sa.text('removed_at IS NULL'))
    with op.batch_alter_table('risk_decisions', schema=None) as batch_op:
        batch_op.create_index('ix_risk_decisions_time', ['mode', 'decided_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('risk_decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_decisions_time')
    with op.batch_alter_table('risk_blacklist_entries', schema=None) as batch_op:
        batch_op.drop_index('uq_risk_lists_active', sqlite_where=sa.text('removed_at IS NULL'), postgresql_where=sa.text('removed_at IS NULL'))
        batch_op.create_index('uq_risk_blacklist_active', ['kind', 'value'], unique=True, sqlite_where=sa.text('removed_at IS NULL'), postgresql_where=sa.text('removed_at IS NULL'))
        batch_op.drop_column('expires_at')
        batch_op.drop_column('shown')
        batch_op.drop_column('list_name')
