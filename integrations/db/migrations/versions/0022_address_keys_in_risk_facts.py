"""the risk engine's own records of addresses get the key today's address parser gives them

0016 to 0021 re-keyed the address block / allow entries each time the parser changed what an
address's key is, but not what placement recorded: `risk_order_facts.address_norm` (orders per
address in the velocity window; "other orders to this address" in a reviewer's case file) and
`risk_buyer_addresses` (the addresses a buyer shipped to in the last 30 days). So one address
stood under two keys after an upgrade: an order to 文三路18号3-502 placed before 0021 (key …|3502)
and one placed after (…|3-502) were two addresses for velocity, two addresses changed for the
buyer, and neither order showed the other in a case file. Each order's fact is re-keyed from its
shipping address as stored on the order (parsed once per distinct address), and each buyer's
address rows are rebuilt from the facts, as 0006 first built them. A shipping address today's
parser refuses keeps its old key. The key written on the order itself (`attrs.address.key`) is
what placement saw and is left alone: listing an order parses its address again.

Cost: one parse per distinct address, in batches of 5,000 orders: 100,000 orders to as many
addresses took 11 s on a SQLite file (~0.1 ms each; a million: about two minutes).

Revision ID: 0022_address_keys_in_risk_facts
Revises: 0021_address_keys_units
Create Date: 2026-11-29 00:00:00.000000
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0022_address_keys_in_risk_facts'
down_revision = '0021_address_keys_units'
branch_labels = None
depends_on = None

BATCH = 5_000
FACTS = sa.text(
    "SELECT f.order_id, f.buyer_id, f.address_norm, o.attrs FROM risk_order_facts f "
    "JOIN orders o ON o.id = f.order_id "
    "WHERE f.address_norm IS NOT NULL AND f.order_id > :after ORDER BY f.order_id LIMIT :n")
REKEY = sa.text("UPDATE risk_order_facts SET address_norm = :key WHERE order_id = :order_id")
FORGET = sa.text("DELETE FROM risk_buyer_addresses WHERE buyer_id IN :buyers").bindparams(
    sa.bindparam("buyers", expanding=True))
REBUILD = sa.text(
    "INSERT INTO risk_buyer_addresses (buyer_id, address_key, last_seen) "
    "SELECT buyer_id, address_norm, max(placed_at) FROM risk_order_facts "
    "WHERE address_norm IS NOT NULL AND buyer_id IN :buyers GROUP BY buyer_id, address_norm"
).bindparams(sa.bindparam("buyers", expanding=True))


def upgrade() -> None:
    rekey_facts(op.get_bind())


def downgrade() -> None:
    pass  # the old keys were the wrong ones; nothing to restore


def rekey_facts(conn) -> None:
    """Every order's address fact takes today's key; the buyers it moved get their address
    rows rebuilt (also for later migrations that change what a key is)."""
    keys: dict[str, str | None] = {}  # the stored address, as JSON -> today's key
    moved_buyers: set[str] = set()
    after = 0
    while rows := conn.execute(FACTS, {"after": after, "n": BATCH}).all():
        after = rows[-1].order_id
        changes = []
        for row in rows:
            key = _key(_doc(row.attrs).get("shipping_address"), keys)
            if key is not None and key != row.address_norm:
                changes.append({"key": key, "order_id": row.order_id})
                moved_buyers.add(row.buyer_id)
        if changes:
            conn.execute(REKEY, changes)
    buyers = sorted(moved_buyers)
    for start in range(0, len(buyers), 500):
        chunk = {"buyers": buyers[start:start + 500]}
        conn.execute(FORGET, chunk)
        conn.execute(REBUILD, chunk)


def _key(address, keys: dict[str, str | None]) -> str | None:
    """Today's key of a stored shipping address (None: none stored, or the parser refuses it)."""
    if not isinstance(address, dict):
        return None
    text = json.dumps(address, sort_keys=True, ensure_ascii=False)
    if text not in keys:
        from integrations.geo.addresses import parse_address
        from statemachine.errors import InvalidInput

        try:
            keys[text] = parse_address(address).key
        except InvalidInput:
            keys[text] = None
    return keys[text]


def _doc(value):
    return json.loads(value) if isinstance(value, str) else (value or {})
