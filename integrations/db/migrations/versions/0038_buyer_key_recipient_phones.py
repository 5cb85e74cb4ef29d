"""The install's buyer-id key, and the recipient's number of orders placed before 0034

1. install_secrets: secrets an install generates for itself, once — the key of the buyer ids
derived for imports without one (HMAC-SHA256; service/buyer_ids.py). 32 random bytes from the
OS, written here and nowhere else (never logged, not in the migration's output). A downgrade
keeps the table and its key: older code never reads it, and a key dropped and made again would
make every imported email a new buyer after the next upgrade.

2. risk_order_facts.recipient_phone_norm for orders placed before 471f8d6 / 0034, which kept one
number (the buyer's, else the recipient's): the shipping address's number, still on the order
(`attrs.shipping_address.phone`, as sent), normalised as placement normalises it
(geo.phones.parse_phone: phonenumbers, numbers without a country code read as +86) and kept
only when it is another number than the buyer's (risk_counters.other_number). So
phone_velocity and its reviewers see a ring's collecting number behind old orders too, not
only after they leave the one-day window. A number that does not parse (placement did not read
it before 471f8d6) stays NULL, as does an order placed since (`attrs.recipient_phone` set: its
facts are placement's). One pass in batches of 5,000 orders; a downgrade keeps the numbers
(the column is 0034's, and the numbers are right for the code of 0034 on too).

Revision ID: 0038_buyer_key_recipient_phones
Revises: 0036_subscription_ids_not_reused
Create Date: 2026-11-29 23:50:00
"""
import json
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
BATCH = 5_000
ONE_NUMBER = sa.text(
    "SELECT f.order_id, f.phone_norm, o.attrs FROM risk_order_facts f "
    "JOIN orders o ON o.id = f.order_id WHERE f.recipient_phone_norm IS NULL "
    "AND f.phone_norm IS NOT NULL AND f.order_id > :after ORDER BY f.order_id LIMIT :n")
FILL = sa.text("UPDATE risk_order_facts SET recipient_phone_norm = :r WHERE order_id = :o "
               "AND recipient_phone_norm IS NULL")


def upgrade() -> None:
    bind = op.get_bind()
    _make_buyer_key(bind)
    backfill_recipient_phones(bind)


def _make_buyer_key(bind) -> None:
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


def backfill_recipient_phones(bind) -> int:
    """Each old order's recipient number, when it is another than the buyer's; how many were
    filled."""
    from integrations.geo.phones import parse_phone  # placement's normalisation, as 0022 does
    from statemachine.errors import InvalidInput

    filled, after = 0, 0
    while rows := bind.execute(ONE_NUMBER, {"after": after, "n": BATCH}).all():
        after = rows[-1].order_id
        numbers = []
        for row in rows:
            attrs = _doc(row.attrs)
            raw = (attrs.get("shipping_address") or {}).get("phone")
            if "recipient_phone" in attrs or not raw:
                continue
            try:
                recipient = parse_phone(str(raw), "shipping_address.phone").e164
            except InvalidInput:
                continue
            if recipient != row.phone_norm:
                numbers.append({"r": recipient, "o": row.order_id})
        if numbers:
            bind.execute(FILL, numbers)
            filled += len(numbers)
    return filled


def _doc(value):
    return json.loads(value) if isinstance(value, str) else (value or {})


def downgrade() -> None:
    pass  # the key and the numbers are kept (see above)
