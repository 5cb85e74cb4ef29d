"""What the replay reads of the store between batches and for its report (all of it SQL)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from integrations.db.repository import HISTORY, ORDERS, SHIPMENTS
from integrations.db.sql import Sql, in_list


class ReplayStore:
    def __init__(self, connection: Connection):
        self.connection, self.sql = connection, Sql(connection)

    def order_count(self) -> int:
        return int(self.connection.execute(select(func.count()).select_from(ORDERS))
                   .scalar_one())

    def earliest_due(self) -> datetime | None:
        row = self.sql.one("SELECT min(due_at) FROM deadlines")
        return self.sql.when(row[0]) if row else None

    def deadlines_by_due(self) -> Iterator[tuple[str, int, datetime]]:
        """(kind, entity id, due) of every stored deadline, soonest first."""
        for kind, entity_id, due in self.sql.run("SELECT kind, entity_id, due_at FROM "
                                                 "deadlines ORDER BY due_at"):
            yield kind, int(entity_id), self.sql.when(due)

    def parcels_of(self, order_ids: Sequence[int]) -> list[tuple[int, int, str, str]]:
        """(parcel id, order id, warehouse, carrier) of these orders' parcels, by id."""
        where, params = in_list("order_id", list(order_ids))
        return [(int(r[0]), int(r[1]), r[2], r[3]) for r in self.sql.all(
            f"SELECT id, order_id, warehouse, carrier FROM shipments WHERE {where} "
            "ORDER BY id", params)]

    def report_rows(self) -> tuple[dict[str, int], list[Any], list[Any], list[Any]]:
        """Final states, parcels, the whole history (no payloads) and the stall rows."""
        conn = self.connection
        by_state = dict(conn.execute(select(ORDERS.c.state, func.count()).group_by(
            ORDERS.c.state)).all())
        parcels = conn.execute(select(SHIPMENTS.c.id, SHIPMENTS.c.order_id, SHIPMENTS.c.state,
                                      SHIPMENTS.c.carrier, SHIPMENTS.c.promised_by)).all()
        history = conn.execute(select(HISTORY.c.entity, HISTORY.c.entity_id, HISTORY.c.trigger,
                                      HISTORY.c.to_state, HISTORY.c.at)
                               .order_by(HISTORY.c.id)).all()
        stalls = conn.execute(select(HISTORY.c.entity_id, HISTORY.c.payload, HISTORY.c.trigger)
                              .where(HISTORY.c.entity == "shipment",
                                     HISTORY.c.trigger.in_(["stall", "mark_late"]))).all()
        return by_state, list(parcels), list(history), list(stalls)
