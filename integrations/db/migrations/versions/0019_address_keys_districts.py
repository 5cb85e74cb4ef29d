"""address block / allow entries get the key today's address parser gives them, and an entry
that stood for several addresses becomes one per address

Now that a Hong Kong district or Macau parish stays in the key (香港九龙城区太子道西188号 was
CN|810000|太子道西|188|, as was 香港中西区太子道西188号; it is CN|810000|九龙城区太子道西|188|),
a house-number range keeps its dash (文三路18-20号 was CN|330106|文三路|1820|, as 1820号 is; it is
CN|330106|文三路|18-20|) and a floor in Chinese numerals is read as digits (三楼 → 3楼).

Under the old key one entry may stand for two addresses: listed for Kowloon City, it took in
the evidence of an order to the same street and number in Central and Western (listing an
order's address adds its evidence to the entry already listed under the key). First, each
such entry is split: each evidence order whose stored key is the entry's own and whose
shipping address has another key today than the entry's address (the address as typed, else
its first such order) gets an entry of its own — same list, reason, author, dates, expiry —
or, listed already, hands its evidence to that entry. Then every entry is re-keyed exactly
as 0016 does it, by 0016's own code.

Revision ID: 0019_address_keys_districts
Revises: 0018_address_keys_numerals_notes
Create Date: 2026-11-28 19:30:00.000000
"""
import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

from integrations.db.base import UtcDateTime

revision = '0019_address_keys_districts'
down_revision = '0018_address_keys_numerals_notes'
branch_labels = None
depends_on = None

ENTRY = sa.table("risk_blacklist_entries", sa.column("id"), sa.column("list_name"),
                 sa.column("kind"), sa.column("value"), sa.column("shown"),
                 sa.column("reason"), sa.column("evidence_order_ids", sa.JSON()),
                 sa.column("created_by"), sa.column("created_at", UtcDateTime()),
                 sa.column("expires_at", UtcDateTime()),
                 sa.column("removed_at", UtcDateTime()), sa.column("removed_by"))
BY = "migration 0019"


def upgrade() -> None:
    conn = op.get_bind()
    m0016 = _migration_0016()
    split(conn, m0016)
    m0016.rekey(conn, by=BY)


def downgrade() -> None:
    pass  # the old keys were the wrong ones; nothing to restore


def split(conn, m0016) -> None:
    """Each active address entry whose evidence orders went to addresses that now key apart
    keeps its own address; each other address is listed by itself, with its orders."""
    active = (ENTRY.c.kind == "address") & ENTRY.c.removed_at.is_(None)
    entries = conn.execute(sa.select(ENTRY).where(active).order_by(ENTRY.c.id)).all()
    if not entries:
        return  # no address listed: the parser (jionlp) is not even loaded
    for entry in entries:
        by_key, own = _addresses(conn, entry, m0016)
        # The entry keeps its own address — unless orders of it kept the entry's key while
        # its own address moved to another (its first order went to (3-502), a later one to
        # No. 18 itself): then the entry stays on its key for them, and its own address is
        # listed apart, with what was typed (a second active entry under one key cannot be).
        keep = entry.value if entry.value in by_key and own != entry.value else own
        others = {key: evidence for key, evidence in by_key.items() if key != keep}
        if keep != own and own is not None:
            others.setdefault(own, [])
        for key, evidence in others.items():
            _list(conn, entry, key, evidence, m0016,
                  shown=entry.shown if key == own and keep != own else None)
        if others:
            moved = {e for evidence in others.values() for e in evidence}
            conn.execute(ENTRY.update().where(ENTRY.c.id == entry.id).values(
                evidence_order_ids=[e for e in m0016._doc(entry.evidence_order_ids)
                                    if e not in moved],
                shown=None if keep != own else entry.shown))


def _addresses(conn, entry, m0016) -> tuple[dict[str, list[str]], str | None]:
    """(today's key → the evidence order ids shipped there, the entry's own address: typed,
    else its first order's; None when neither is known)."""
    from integrations.geo.addresses import parse_address, parse_line
    from statemachine import ids
    from statemachine.errors import InvalidInput

    by_key: dict[str, list[str]] = {}
    for evidence in m0016._doc(entry.evidence_order_ids):
        try:
            number = ids.ORDER.parse(evidence)
        except Exception:  # noqa: BLE001 - evidence written by hand: not an order id
            continue
        attrs = m0016._doc(conn.execute(m0016.ORDER_ATTRS, {"id": number}).scalar()) or {}
        if (attrs.get("address") or {}).get("key") != entry.value \
                or not attrs.get("shipping_address"):
            continue
        try:
            by_key.setdefault(parse_address(attrs["shipping_address"]).key, []).append(evidence)
        except InvalidInput:
            continue
    try:
        own = parse_line(entry.shown, field="value").key if entry.shown else None
    except InvalidInput:
        return {}, None  # the entry's own address is unknown: nothing to tell apart
    return by_key, own or next(iter(by_key), None)


def _list(conn, entry, key: str, evidence: list[str], m0016, shown=None) -> None:
    """`key` listed like `entry` with `evidence` (and `shown`, the address as typed), or the
    evidence added to its entry."""
    twin = conn.execute(m0016.ACTIVE, {"list": entry.list_name, "value": key}).first()
    if twin is not None:
        merged = list(dict.fromkeys([*m0016._doc(twin.evidence_order_ids), *evidence]))
        conn.execute(ENTRY.update().where(ENTRY.c.id == twin.id).values(
            evidence_order_ids=merged))
        return
    conn.execute(ENTRY.insert().values(
        list_name=entry.list_name, kind="address", value=key, shown=shown, reason=entry.reason,
        evidence_order_ids=evidence, created_by=entry.created_by, created_at=entry.created_at,
        expires_at=entry.expires_at, removed_at=None, removed_by=None))


def _migration_0016():
    """0016's module (revision files are not a package: loaded by path, as alembic does)."""
    path = Path(__file__).with_name("0016_address_keys_simplified.py")
    spec = importlib.util.spec_from_file_location("orderpilot_migration_0016", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
