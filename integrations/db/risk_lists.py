"""Block and allow list rows (`risk_blacklist_entries`): find the active entry for a value, add
one, add evidence to one, list them, remove one (soft: `removed_at`, kept for the audit trail),
and read what an order could put on a list. What is valid and how values are normalised is
integrations/risk/lists_store.py; placement reads its candidates in db/risk_signals.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, RowMapping, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from integrations.db.schema import OrderRow
from integrations.db.schema_risk import BlacklistEntryRow, RiskOrderFactsRow

BLACKLIST, ORDERS = BlacklistEntryRow.__table__, OrderRow.__table__
FACTS = RiskOrderFactsRow.__table__


def active_entry(conn: Connection, list_name: str, kind: str, value: str, *,
                 lock: bool = False) -> RowMapping | None:
    """The list's entry for this (stored) value that has not been removed, if any; `lock`:
    with its row lock (PostgreSQL), so that two additions merge their evidence in turn."""
    query = select(BLACKLIST).where(
        BLACKLIST.c.list_name == list_name, BLACKLIST.c.kind == kind,
        BLACKLIST.c.value == value, BLACKLIST.c.removed_at.is_(None))
    return conn.execute(query.with_for_update() if lock else query).mappings().first()


def set_evidence(conn: Connection, entry_id: int, order_ids: list[str]) -> None:
    """Replace an entry's evidence (order ids)."""
    conn.execute(update(BLACKLIST).where(BLACKLIST.c.id == entry_id)
                 .values(evidence_order_ids=order_ids))


def insert_entry(conn: Connection, row: dict[str, Any]) -> int | None:
    """A new entry from its column values; its id, or None when an active entry for the same
    (list, kind, value) is there already (a concurrent addition committed first: the caller
    reads it and adds to it; a plain INSERT raised a UniqueViolation on PostgreSQL)."""
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(BLACKLIST).values(row).on_conflict_do_nothing(
        index_elements=["list_name", "kind", "value"],
        index_where=BLACKLIST.c.removed_at.is_(None)).returning(BLACKLIST.c.id)
    return conn.execute(statement).scalar_one_or_none()


def order_buyer_attrs(conn: Connection, order_id: int) -> Row | None:
    """The order's buyer_id and attrs (device, IP, phone, address) and its risk facts'
    recipient_phone_norm (the recipient's number when another, for orders placed before
    attrs kept it: 0038's backfill), None if no such order."""
    return conn.execute(
        select(ORDERS.c.buyer_id, ORDERS.c.attrs, FACTS.c.recipient_phone_norm)
        .outerjoin(FACTS, FACTS.c.order_id == ORDERS.c.id)
        .where(ORDERS.c.id == order_id)).one_or_none()


def entries(conn: Connection, include_removed: bool = False,
            list_name: str | None = None) -> list[dict[str, Any]]:
    """Entries by id, active only unless `include_removed`, of one list or both."""
    query = select(BLACKLIST).order_by(BLACKLIST.c.id)
    if not include_removed:
        query = query.where(BLACKLIST.c.removed_at.is_(None))
    if list_name is not None:
        query = query.where(BLACKLIST.c.list_name == list_name)
    return [dict(r) for r in conn.execute(query).mappings()]


def remove(conn: Connection, entry_id: int, *, by: str, at: datetime) -> dict[str, Any] | None:
    """Mark an active entry removed (when, by whom); the entry as now stored, None if there is
    no active entry with that id."""
    done = conn.execute(update(BLACKLIST).where(
        BLACKLIST.c.id == entry_id, BLACKLIST.c.removed_at.is_(None))
        .values(removed_at=at, removed_by=by))
    if done.rowcount != 1:
        return None
    return dict(conn.execute(select(BLACKLIST).where(BLACKLIST.c.id == entry_id))
                .mappings().one())
