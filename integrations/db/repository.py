"""The store: load and save aggregates on one connection, inside the caller's transaction.

A save is a version-checked UPDATE; if another writer got there first the row count is 0 and
`ConcurrentUpdate` is raised, so the unit of work rolls back and nothing is written. Every
successful fire is appended to the history and the outbox in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update

from integrations.db import mapping
from integrations.db.schema import (
    CaseRow,
    DeadlineRow,
    InboxRow,
    OrderLineRow,
    OrderRow,
    OutboxRow,
    ShipmentRow,
    TransitionRow,
)
from statemachine.aftersales import AfterSalesCase
from statemachine.errors import ConcurrentUpdate, NotFound
from statemachine.lifecycle import Fired
from statemachine.order import Order
from statemachine.shipment import Shipment

ORDERS, LINES = OrderRow.__table__, OrderLineRow.__table__
SHIPMENTS, CASES = ShipmentRow.__table__, CaseRow.__table__
HISTORY, OUTBOX = TransitionRow.__table__, OutboxRow.__table__
DEADLINES, INBOX = DeadlineRow.__table__, InboxRow.__table__



class Store:
    """Aggregates in and out of the database, on the connection of one unit of work."""

    def __init__(self, connection: Connection):
        self.connection = connection

    # --- orders -----------------------------------------------------------------------------

    def get_order(self, order_id: int, *, lock: bool = False) -> Order:
        query = select(ORDERS).where(ORDERS.c.id == order_id)
        if lock:
            query = query.with_for_update()
        row = self.connection.execute(query).one_or_none()
        if row is None:
            raise NotFound("order", f"o-{order_id}")
        lines = self.connection.execute(
            select(LINES).where(LINES.c.order_id == order_id).order_by(LINES.c.line_no)).all()
        return mapping.order_from_row(row, list(lines))

    def add_order(self, values: dict[str, Any], lines: Iterable[dict[str, Any]]) -> int:
        order_id = self.connection.execute(insert(ORDERS).values(values)).inserted_primary_key[0]
        self.connection.execute(insert(LINES), [{**ln, "order_id": order_id} for ln in lines])
        return int(order_id)

    def save_order(self, order: Order, at: datetime) -> None:
        self._save(ORDERS, order, mapping.order_changes(order), at, "order")

    def save_order_lines(self, order: Order) -> None:
        self.connection.execute(
            update(LINES).where(LINES.c.order_id == order.id, LINES.c.line_no == bindparam("ln"))
            .values(refunded_quantity=bindparam("refunded")),
            [{"ln": ln.line_no, "refunded": ln.refunded_quantity} for ln in order.lines])

    # --- shipments and cases ----------------------------------------------------------------

    def get_shipment(self, shipment_id: int) -> Shipment:
        return mapping.shipment_from_row(self._one(SHIPMENTS, shipment_id, "shipment", "s"))

    def shipments_of(self, order_id: int) -> list[Shipment]:
        rows = self.connection.execute(select(SHIPMENTS).where(
            SHIPMENTS.c.order_id == order_id).order_by(SHIPMENTS.c.id))
        return [mapping.shipment_from_row(r) for r in rows]

    def add_shipment(self, values: dict[str, Any]) -> int:
        return int(self.connection.execute(insert(SHIPMENTS).values(values))
                   .inserted_primary_key[0])

    def save_shipment(self, shipment: Shipment, at: datetime) -> None:
        self._save(SHIPMENTS, shipment, mapping.shipment_changes(shipment), at, "shipment")

    def get_case(self, case_id: int) -> AfterSalesCase:
        return mapping.case_from_row(self._one(CASES, case_id, "case", "c"))

    def cases_of(self, order_id: int) -> list[AfterSalesCase]:
        rows = self.connection.execute(select(CASES).where(CASES.c.order_id == order_id)
                                       .order_by(CASES.c.id))
        return [mapping.case_from_row(r) for r in rows]

    def add_case(self, values: dict[str, Any]) -> int:
        return int(self.connection.execute(insert(CASES).values(values)).inserted_primary_key[0])

    def save_case(self, case: AfterSalesCase, at: datetime) -> None:
        self._save(CASES, case, mapping.case_changes(case), at, "case")

    # --- history, outbox, deadlines, inbox --------------------------------------------------

    def record(self, fired: Fired, entity_id: int, order_id: int,
               event_data: dict[str, Any]) -> None:
        """Append the transition to the history and the outbox (same transaction)."""
        self.record_many([(fired, entity_id, order_id, event_data)])

    def record_many(self, items: list[tuple[Fired, int, int, dict[str, Any]]]) -> None:
        if not items:
            return
        self.connection.execute(insert(HISTORY), [_history_row(*item[:3]) for item in items])
        self.connection.execute(insert(OUTBOX), [_outbox_row(*item) for item in items])

    def record_signal(self, name: str, entity: str, entity_id: int, order_id: int,
                      at: datetime, data: dict[str, Any]) -> None:
        """An outbox event that is not a transition (an SLA breach, an escalation)."""
        self.connection.execute(insert(OUTBOX).values(
            event=f"orderpilot.{entity}.{name}", entity=entity, entity_id=entity_id,
            order_id=order_id, created_at=at, published_at=None,
            payload={"order_id": f"o-{order_id}", "at": at.isoformat(), **data}))

    def history(self, order_id: int) -> list[Any]:
        return list(self.connection.execute(
            select(HISTORY).where(HISTORY.c.order_id == order_id).order_by(HISTORY.c.id)))

    def set_deadline(self, kind: str, entity: str, entity_id: int, order_id: int,
                     due_at: datetime) -> None:
        self.clear_deadlines(entity, entity_id, kinds=[kind])
        self.connection.execute(insert(DEADLINES).values(
            kind=kind, entity=entity, entity_id=entity_id, order_id=order_id, due_at=due_at))

    def clear_deadlines(self, entity: str, entity_id: int, kinds: list[str] | None = None) -> None:
        query = delete(DEADLINES).where(DEADLINES.c.entity == entity,
                                        DEADLINES.c.entity_id == entity_id)
        if kinds is not None:
            query = query.where(DEADLINES.c.kind.in_(kinds))
        self.connection.execute(query)

    def inbox_get(self, key: str) -> dict[str, Any] | None:
        row = self.connection.execute(select(INBOX.c.result).where(INBOX.c.key == key)).first()
        return None if row is None else dict(row.result)

    def inbox_put(self, key: str, kind: str, result: dict[str, Any], at: datetime) -> None:
        self.connection.execute(insert(INBOX).values(key=key, kind=kind, result=result,
                                                     created_at=at))

    # --- helpers ----------------------------------------------------------------------------

    def _one(self, table: Table, entity_id: int, entity: str, prefix: str) -> Any:
        row = self.connection.execute(select(table).where(table.c.id == entity_id)).one_or_none()
        if row is None:
            raise NotFound(entity, f"{prefix}-{entity_id}")
        return row

    def _save(self, table: Table, aggregate: Any, changes: dict[str, Any], at: datetime,
              entity: str) -> None:
        result = self.connection.execute(
            update(table).where(table.c.id == aggregate.id, table.c.version == aggregate.version)
            .values(**changes, version=aggregate.version + 1, updated_at=at)
            if "updated_at" in table.c else
            update(table).where(table.c.id == aggregate.id, table.c.version == aggregate.version)
            .values(**changes, version=aggregate.version + 1))
        if result.rowcount != 1:
            raise ConcurrentUpdate(entity, aggregate.public_id, aggregate.version)
        aggregate.version += 1


def _history_row(fired: Fired, entity_id: int, order_id: int) -> dict[str, Any]:
    return {"entity": fired.entity, "entity_id": entity_id, "order_id": order_id,
            "trigger": fired.trigger, "from_state": fired.from_state, "to_state": fired.to_state,
            "actor": fired.actor, "at": fired.at, "payload": fired.payload}


def _outbox_row(fired: Fired, entity_id: int, order_id: int,
                event_data: dict[str, Any]) -> dict[str, Any]:
    payload = {"order_id": f"o-{order_id}", "entity_id": fired.entity_id,
               "trigger": fired.trigger, "from_state": fired.from_state,
               "to_state": fired.to_state, "actor": fired.actor, "at": fired.at.isoformat(),
               **event_data, "details": fired.payload}
    return {"event": f"orderpilot.{fired.entity}.{fired.event}", "entity": fired.entity,
            "entity_id": entity_id, "order_id": order_id, "payload": payload,
            "created_at": fired.at, "published_at": None}


