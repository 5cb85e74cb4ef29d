"""A dispute's kind (inquiry | chargeback) in a column of its own

Until now a Shopify dispute's type lived only as a prefix of its reason (`inquiry: fraudulent,
network code 4837`), parsed back wherever it mattered; a gateway's (Stripe) had no prefix and
was always taken for a chargeback. The backfill reads the prefix: `inquiry: …` is an inquiry,
everything else a chargeback (a Stripe inquiry recorded before cannot be told apart: Stripe's
reason never said it); the prefix is cut from the reason, which is now the bank's reason only.
A downgrade writes the prefix back on Shopify's rows (the only ones that had it).

Revision ID: 0033_dispute_kind
Revises: 0032_waybills_any_carrier_case
Create Date: 2026-11-29 20:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0033_dispute_kind'
down_revision = '0032_waybills_any_carrier_case'
branch_labels = None
depends_on = None

PREFIXES = ("inquiry", "chargeback")


def upgrade() -> None:
    op.add_column('disputes', sa.Column('kind', sa.String(length=16), nullable=True))
    for kind in PREFIXES:  # LIKE's `_` is any character: the prefix is compared by SUBSTR
        head = f"{kind}: "
        op.execute(sa.text(
            "UPDATE disputes SET kind = :kind, reason = SUBSTR(reason, :rest) "
            "WHERE SUBSTR(reason, 1, :n) = :head").bindparams(
                kind=kind, rest=len(head) + 1, n=len(head), head=head))
    op.execute("UPDATE disputes SET kind = 'chargeback' WHERE kind IS NULL")
    with op.batch_alter_table('disputes') as batch:
        batch.alter_column('kind', existing_type=sa.String(length=16), nullable=False)


def downgrade() -> None:
    op.execute("UPDATE disputes SET reason = kind || ': ' || COALESCE(reason, '') "
               "WHERE provider = 'shopify'")
    with op.batch_alter_table('disputes') as batch:
        batch.drop_column('kind')
