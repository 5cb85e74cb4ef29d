"""waybill_counters: the simulated carrier's last waybill number per carrier, kept in the store
so that two processes on one store never hand out the same number; seeded from the parcels
already numbered the simulated carrier's way (SIM-EXPRESS-0000042), so a new number never
repeats one of theirs

Revision ID: 0029_waybill_counters
Revises: 0028_address_keys_forms
Create Date: 2026-11-29 12:10:00
"""
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
    last = last_numbers(op.get_bind())
    if last:
        op.bulk_insert(counters, [{"carrier": c, "last_no": n} for c, n in sorted(last.items())])


# Per carrier name, the highest of its parcels' numbers the simulated carrier's way: the name
# in capitals, a dash and 7 or more digits (SIM-EXPRESS-0000042). The store scans once and
# takes the max per carrier and head (what stands before the digits); Python keeps the heads
# that are the name in capitals (str.upper, the adapter's: a database's UPPER may capitalise
# other letters), a few rows, where 0029 first read every number with a dash.
HEADS = ("SELECT carrier, SUBSTR(tracking_no, 1, LENGTH(carrier) + 1), "
         "MAX(CAST(SUBSTR(tracking_no, LENGTH(carrier) + 2) AS BIGINT)) FROM shipments "
         "WHERE SUBSTR(tracking_no, LENGTH(carrier) + 1, 1) = '-' "
         "AND LENGTH(tracking_no) >= LENGTH(carrier) + 8 "
         "AND {number} "
         "GROUP BY carrier, SUBSTR(tracking_no, 1, LENGTH(carrier) + 1)")
# a name whose capitals are longer (straße, STRASSE): its head is read on its own
LONGER = ("SELECT MAX(CAST(SUBSTR(tracking_no, :n + 1) AS BIGINT)) FROM shipments "
          "WHERE carrier = :carrier AND SUBSTR(tracking_no, 1, :n) = :head "
          "AND LENGTH(tracking_no) >= :n + 7 AND {number}")
DIGITS = {"sqlite": "NOT GLOB '*[^0-9]*'", "postgresql": "!~ '[^0-9]'"}
# ... and a number a BIGINT counter can come to (<= 2**63 - 1: of two digit strings as long,
# the larger sorts last). A longer one is never the adapter's; PostgreSQL's CAST refused it
# (bigint out of range: the upgrade failed), SQLite's made it 2**63 - 1, a counter at its end.
NUMBER = ("{suffix} {digits} AND (LENGTH(LTRIM({suffix}, '0')) < 19 "
          "OR (LENGTH(LTRIM({suffix}, '0')) = 19 "
          "AND LTRIM({suffix}, '0') <= '9223372036854775807'))")
NOT_ASCII = {"sqlite": "SELECT DISTINCT carrier FROM shipments WHERE carrier GLOB '*[^ -~]*'",
             "postgresql": "SELECT DISTINCT carrier FROM shipments WHERE carrier ~ '[^ -~]'"}


def last_numbers(bind: sa.engine.Connection) -> dict[str, int]:
    digits = DIGITS[bind.dialect.name]
    heads = HEADS.format(number=NUMBER.format(
        suffix="SUBSTR(tracking_no, LENGTH(carrier) + 2)", digits=digits))
    longer = LONGER.format(number=NUMBER.format(suffix="SUBSTR(tracking_no, :n + 1)",
                                                digits=digits))
    last: dict[str, int] = {}
    for carrier, head, last_no in bind.execute(sa.text(heads)):
        if head == f"{carrier.upper()}-":
            last[carrier] = int(last_no)
    for carrier in bind.execute(sa.text(NOT_ASCII[bind.dialect.name])).scalars():
        head = f"{carrier.upper()}-"
        if len(head) != len(carrier) + 1:
            found = bind.execute(sa.text(longer), {
                "carrier": carrier, "head": head, "n": len(head)}).scalar()
            if found is not None:
                last[carrier] = int(found)
    return last


def downgrade() -> None:
    op.drop_table('waybill_counters')
