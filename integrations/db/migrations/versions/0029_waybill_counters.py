"""waybill_counters: the simulated carrier's last waybill number per carrier, kept in the store
so that two processes on one store never hand out the same number; seeded from the parcels
already numbered the simulated carrier's way (SIM-EXPRESS-0000042), so a new number never
repeats one of theirs

Revision ID: 0029_waybill_counters
Revises: 0028_address_keys_forms
Create Date: 2026-11-29 12:10:00
"""
import re

from alembic import op
import sqlalchemy as sa


revision = '0029_waybill_counters'
down_revision = '0028_address_keys_forms'
branch_labels = None
depends_on = None


def upgrade() -> None:
    counters = op.create_table(
        'waybill_counters',
        sa.Column('carrier', sa.String(length=64), nullable=False),
        sa.Column('last_no', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('carrier', name=op.f('pk_waybill_counters')))
    last: dict[str, int] = {}
    rows = op.get_bind().execute(sa.text(
        "SELECT carrier, tracking_no FROM shipments WHERE tracking_no LIKE '%-%'"))
    for carrier, tracking_no in rows:
        found = re.fullmatch(re.escape(carrier.upper()) + r"-(\d{7,})", tracking_no)
        if found:
            last[carrier] = max(last.get(carrier, 0), int(found.group(1)))
    if last:
        op.bulk_insert(counters, [{"carrier": c, "last_no": n} for c, n in sorted(last.items())])


def downgrade() -> None:
    op.drop_table('waybill_counters')
