"""Waybill numbers in any case and under any carrier: the counters of the simulated carrier's
prefixes move past every stored number of theirs, whatever carrier the parcel names and in
whatever case it was typed (0029 read only numbers under their own carrier's name, in
capitals: SF-0000050 typed under zto, or sf-0000050, was handed out again); and the waybill
index is on the numbers' and carriers' keys (ASCII letters in capitals), the form every lookup
now compares in.

Revision ID: 0032_waybills_any_carrier_case
Revises: 0031_risk_facts_phone_index
Create Date: 2026-11-29 18:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0032_waybills_any_carrier_case'
down_revision = '0031_risk_facts_phone_index'
branch_labels = None
depends_on = None

# A number the simulated carrier could hand out: a prefix, a dash, 7 or more ASCII digits at
# the end (carrier_store.simulated_count). RTRIM of the digits leaves "prefix-" (h); what it cut
# is the count. One scan: per prefix key (ASCII capitals, as the counters and lookups compare),
# the highest count a BIGINT holds (at most 19 significant digits, of 19 those <= 2**63 - 1: a
# longer one is never the adapter's, and PostgreSQL's CAST refused it). Python keeps the keys
# the adapter can write (no other lower-case letter left, not longer than the column).
# The inner query RTRIMs once per row; its WHERE only skips, cheaply, numbers that cannot be
# one. On SQLite behind LIMIT -1, which keeps the planner from flattening it (flattened, each
# use of h trimmed again: 2.3x slower at 600,000 parcels); PostgreSQL was slower with a fence
# (OFFSET 0) or a regular expression, and is left to plan it
KEY = {"sqlite": "upper({})", "postgresql": 'upper({} COLLATE "C")'}
ENDING = {"sqlite": "GLOB '?*-*[0-9][0-9][0-9][0-9][0-9][0-9][0-9]'",
          "postgresql": "LIKE '_%-%'"}
FENCE = {"sqlite": "LIMIT -1", "postgresql": ""}
COUNT = "SUBSTR(t, LENGTH(h) + 1)"
HIGHEST = ("SELECT {key}, MAX(CAST(" + COUNT + " AS BIGINT)) FROM (SELECT tracking_no AS t, "
           "RTRIM(tracking_no, '0123456789') AS h FROM shipments WHERE tracking_no {ending} "
           "{fence}) numbers WHERE LENGTH(h) >= 2 AND SUBSTR(h, LENGTH(h), 1) = '-' "
           "AND LENGTH(t) - LENGTH(h) >= 7 "
           f"AND (LENGTH(LTRIM({COUNT}, '0')) < 19 OR (LENGTH(LTRIM({COUNT}, '0')) = 19 "
           f"AND LTRIM({COUNT}, '0') <= '9223372036854775807')) GROUP BY 1")
PREFIX = "SUBSTR(h, 1, LENGTH(h) - 1)"
# never back: a counter already past a number stays
PASS = ("INSERT INTO waybill_counters (prefix, last_no) VALUES (:p, :n) "
        "ON CONFLICT (prefix) DO NOTHING",
        "UPDATE waybill_counters SET last_no = :n WHERE prefix = :p AND last_no < :n")
PREFIX_MAX = 64


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    key = KEY[dialect]
    highest = HIGHEST.format(key=key.format(PREFIX), ending=ENDING[dialect],
                             fence=FENCE[dialect])
    rows = [{"p": prefix, "n": int(count)} for prefix, count in bind.execute(sa.text(highest))
            if prefix == prefix.upper() and len(prefix) <= PREFIX_MAX]
    for statement in PASS:
        if rows:
            bind.execute(sa.text(statement), sorted(rows, key=lambda r: r["p"]))
    op.drop_index('ix_shipments_waybill', table_name='shipments')
    op.execute(f"CREATE INDEX ix_shipments_waybill_key ON shipments "
               f"({key.format('tracking_no')}, {key.format('carrier')})")


def downgrade() -> None:
    # the counters stay where they are (past numbers only skips some: gaps, never repeats)
    op.drop_index('ix_shipments_waybill_key', table_name='shipments')
    op.create_index('ix_shipments_waybill', 'shipments', ['tracking_no', 'carrier'])
