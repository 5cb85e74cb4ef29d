"""The outbox's readers: the relay (the oldest unpublished rows, the orders they concern,
marking rows published — only those still unpublished — and how many wait) and the console's
follower (rows after its cursor, rows filling a gap, the cursor it keeps in the inbox)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from integrations.db.repository import ORDERS, OUTBOX
from integrations.db.rows import Insert
from integrations.db.schema import InboxRow
from integrations.db.sql import Sql

INBOX = InboxRow.__table__
CURSOR = Insert(INBOX, but=(), key=("key",), update=("result", "created_at"))
FOLLOWED = (OUTBOX.c.id, OUTBOX.c.event, OUTBOX.c.entity, OUTBOX.c.entity_id,
            OUTBOX.c.order_id, OUTBOX.c.payload, OUTBOX.c.created_at)


def unpublished(connection: Connection, limit: int) -> list[Any]:
    """The oldest rows not published yet, in id order, at most `limit`."""
    return list(connection.execute(select(OUTBOX).where(OUTBOX.c.published_at.is_(None))
                                   .order_by(OUTBOX.c.id).limit(limit)))


def orders_of(connection: Connection, order_ids: Iterable[int]) -> dict[int, Any]:
    """Id, buyer, total and attrs of these orders, by id (the envelope's labels)."""
    wanted = set(order_ids)
    if not wanted:
        return {}
    return {r.id: r for r in connection.execute(
        select(ORDERS.c.id, ORDERS.c.buyer_id, ORDERS.c.total, ORDERS.c.attrs)
        .where(ORDERS.c.id.in_(wanted)))}


def mark_published(connection: Connection, outbox_ids: list[int], at: datetime) -> None:
    """Stamp these rows published at `at` (a row stamped already keeps its first stamp)."""
    connection.execute(update(OUTBOX).where(OUTBOX.c.id.in_(outbox_ids),
                                            OUTBOX.c.published_at.is_(None))
                       .values(published_at=at))


def count_unpublished(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(OUTBOX)
                                  .where(OUTBOX.c.published_at.is_(None))).scalar_one())


def rows_after(connection: Connection, cursor: int, limit: int) -> list[Any]:
    """Rows after `cursor`, oldest first, at most `limit`."""
    return list(connection.execute(select(*FOLLOWED).where(OUTBOX.c.id > cursor)
                                   .order_by(OUTBOX.c.id).limit(limit)))


def rows_with_ids(connection: Connection, ids: Iterable[int]) -> list[Any]:
    return list(connection.execute(select(*FOLLOWED).where(OUTBOX.c.id.in_(list(ids)))
                                   .order_by(OUTBOX.c.id)))


def kept_cursor(connection: Connection, key: str) -> int | None:
    """The outbox id a follower stored under `key` (None: it never ran)."""
    kept = connection.execute(select(INBOX.c.result).where(INBOX.c.key == key)
                              ).scalar_one_or_none()
    return None if kept is None else int(kept["outbox_id"])


def newest_id(connection: Connection) -> int:
    return int(connection.execute(select(func.coalesce(func.max(OUTBOX.c.id), 0))).scalar_one())


def keep_cursor(connection: Connection, key: str, outbox_id: int, at: datetime) -> None:
    """One upsert: a DELETE then INSERT let two consoles saving at once (one restarting while
    the other still runs) both insert, and PostgreSQL refused the second on the key."""
    CURSOR.write_row(Sql(connection), {"key": key, "kind": "console",
                                       "result": {"outbox_id": outbox_id}, "created_at": at})
