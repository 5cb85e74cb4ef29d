"""address block / allow entries get the key today's address parser gives them

Since 090d64d an address written in traditional characters (浙江省杭州市西湖區文三路18號3單元)
has the key of its simplified form (CN|330106|文三路|18|3单元); before, it was keyed apart
(CN|330106|區文三路|18|3單元, or with no region at all for 澳門 / 臺灣). Since 37faa3b a Hong Kong
or Macau address has one key however the region is named (澳门特别行政区 澳门 新马路12号 was
CN|820000|特别行政区澳门新马路|12|). An entry listed with such an old key would match no order
placed after the upgrade: the blacklisted address would pass. Each active address entry is
parsed again from the address as the person typed it (`shown`) or, listed from an order, from
the shipping address of its evidence order that had that key. An entry whose new key is
listed already (same list) gives that entry its evidence and is removed, as a person would
(`removed_by` says why). Keys that cannot be re-derived stay as they are.

Revision ID: 0016_address_keys_simplified
Revises: 0015_sweep_and_health_indexes
Create Date: 2026-11-28 13:00:00.000000
"""
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from integrations.db.base import UtcDateTime

revision = '0016_address_keys_simplified'
down_revision = '0015_sweep_and_health_indexes'
branch_labels = None
depends_on = None

ENTRIES = sa.text(
    "SELECT id, list_name, value, shown, evidence_order_ids FROM risk_blacklist_entries "
    "WHERE kind = 'address' AND removed_at IS NULL ORDER BY id")
ORDER_ATTRS = sa.text("SELECT attrs FROM orders WHERE id = :id")
ACTIVE = sa.text(
    "SELECT id, evidence_order_ids FROM risk_blacklist_entries WHERE kind = 'address' AND "
    "removed_at IS NULL AND list_name = :list AND value = :value")
ENTRY = sa.table("risk_blacklist_entries", sa.column("id"), sa.column("value"),
                 sa.column("evidence_order_ids", sa.JSON()),
                 sa.column("removed_at", UtcDateTime()), sa.column("removed_by"))



def upgrade() -> None:
    rekey(op.get_bind(), by="migration 0016")


def rekey(conn, by: str) -> None:
    """Each active address entry takes the key today's parser gives its address (also run by
    later migrations that change what a key is: 0018 to 0021, 0023 to 0026)."""
    entries = conn.execute(ENTRIES).all()
    if not entries:
        return  # no address listed: the parser (jionlp) is not even loaded
    from integrations.geo.addresses import parse_address, parse_line
    from statemachine.errors import InvalidInput

    for entry in entries:
        try:
            key = _new_key(conn, entry, parse_address, parse_line)
        except InvalidInput:
            key = None
        if key is None or key == entry.value:
            continue
        twin = conn.execute(ACTIVE, {"list": entry.list_name, "value": key}).first()
        if twin is None:
            conn.execute(_entry(entry.id).values(value=key))
            continue
        merged = list(dict.fromkeys([*_doc(twin.evidence_order_ids),
                                     *_doc(entry.evidence_order_ids)]))
        conn.execute(_entry(twin.id).values(evidence_order_ids=merged))
        conn.execute(_entry(entry.id).values(
            removed_at=datetime.now(UTC),
            removed_by=f"{by}: same address as entry {twin.id}"))


def downgrade() -> None:
    pass  # the old keys were the wrong ones; nothing to restore


def _entry(entry_id):
    return ENTRY.update().where(ENTRY.c.id == entry_id)


def _new_key(conn, entry, parse_address, parse_line):
    """The key today's parser gives the address behind an entry, or None if it is not known."""
    if entry.shown:
        return parse_line(entry.shown, field="value").key
    from statemachine import ids

    for evidence in _doc(entry.evidence_order_ids):
        try:
            order_id = ids.ORDER.parse(evidence)
        except Exception:  # noqa: BLE001 - evidence written by hand: not an order id
            continue
        attrs = _doc(conn.execute(ORDER_ATTRS, {"id": order_id}).scalar()) or {}
        if (attrs.get("address") or {}).get("key") == entry.value \
                and attrs.get("shipping_address"):
            return parse_address(attrs["shipping_address"]).key
    return None


def _doc(value):
    return json.loads(value) if isinstance(value, str) else (value or [])
