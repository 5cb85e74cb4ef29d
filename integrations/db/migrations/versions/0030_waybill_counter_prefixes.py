"""waybill_counters: one counter per waybill prefix (the carrier's name in capitals), not per
carrier name: "SF" and "sf" both number SF-0000001, …, and with a counter each they handed out
the same waybills. Each prefix counts on from the highest of its carriers' counters.

Revision ID: 0030_waybill_counter_prefixes
Revises: 0029_waybill_counters
Create Date: 2026-11-29 15:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0030_waybill_counter_prefixes'
down_revision = '0029_waybill_counters'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a row per carrier name the simulated adapter numbered for: few, read into Python to be
    # grouped by the very function that prefixes the numbers (simulated.waybill_prefix)
    rows = op.get_bind().execute(sa.text("SELECT carrier, last_no FROM waybill_counters"))
    last: dict[str, int] = {}
    for carrier, last_no in rows:
        prefix = carrier.upper()
        last[prefix] = max(last.get(prefix, 0), int(last_no))
    op.drop_table('waybill_counters')
    counters = _counters('prefix')
    if last:
        op.bulk_insert(counters, [{"prefix": p, "last_no": n} for p, n in sorted(last.items())])


def downgrade() -> None:
    # a counter per carrier name again: each name of the shipments under a prefix (SF, sf)
    # and its lower-case name (sim-express, the default carrier's) count on from the prefix's
    bind = op.get_bind()
    last = dict(bind.execute(sa.text("SELECT prefix, last_no FROM waybill_counters")).all())
    names = [r[0] for r in bind.execute(sa.text("SELECT DISTINCT carrier FROM shipments"))]
    op.drop_table('waybill_counters')
    counters = _counters('carrier')
    rows = {name: last[name.upper()] for name in names if name.upper() in last}
    rows.update({p.lower(): n for p, n in last.items() if p.lower() not in rows})
    if rows:
        op.bulk_insert(counters, [{"carrier": c, "last_no": n} for c, n in sorted(rows.items())])


def _counters(key: str) -> sa.Table:
    return op.create_table(
        'waybill_counters',
        sa.Column(key, sa.String(length=64), nullable=False),
        sa.Column('last_no', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(key, name=op.f('pk_waybill_counters')))
