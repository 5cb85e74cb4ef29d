"""install_secrets: secrets an install generates for itself, once — the key of the buyer ids
derived for imports without one (HMAC-SHA256; service/buyer_ids.py). 32 random bytes from the
OS, written here and nowhere else (never logged, not in the migration's output).

A downgrade keeps the table and its key: older code never reads it, and a key dropped and made
again would make every imported email a new buyer after the next upgrade.

Revision ID: 0038_buyer_key_recipient_phones
Revises: 0036_subscription_ids_not_reused
Create Date: 2026-11-29 23:50:00
"""
import secrets
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


revision = '0038_buyer_key_recipient_phones'
down_revision = '0036_subscription_ids_not_reused'
branch_labels = None
depends_on = None

BUYER_IDS = 'buyer_ids'
SECRETS = sa.table('install_secrets', sa.column('name', sa.String), sa.column('value', sa.String),
                   sa.column('created_at', sa.DateTime(timezone=True)))


def upgrade() -> None:
    bind = op.get_bind()
    if not sa.inspect(bind).has_table('install_secrets'):  # kept by a downgrade
        op.create_table(
            'install_secrets',
            sa.Column('name', sa.String(length=64), nullable=False),
            sa.Column('value', sa.String(length=128), nullable=False),
            sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint('name'),
            sqlite_with_rowid=False)
    kept = bind.execute(sa.select(SECRETS.c.name).where(SECRETS.c.name == BUYER_IDS)).first()
    if kept is None:
        bind.execute(SECRETS.insert().values(name=BUYER_IDS, value=secrets.token_hex(32),
                                             created_at=datetime.now(UTC)))


def downgrade() -> None:
    pass
