"""The relay's reads and writes of the outbox: the oldest unpublished rows, the orders they
concern, marking rows published (only those still unpublished), and how many wait."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from integrations.db.repository import ORDERS, OUTBOX


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
