"""The store: load and save aggregates on one connection, inside the caller's transaction.

A save is a version-checked UPDATE; if another writer got there first the row count is 0 and
`ConcurrentUpdate` is raised, so the unit of work rolls back and nothing is written. Every
successful fire is appended to the history and the outbox in the same transaction.
Hot statements run through `Sql` (see integrations/db/sql.py for why).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

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
from integrations.db.sql import Sql
from statemachine.aftersales import AfterSalesCase, CaseKind, CaseLine, CaseState, Inspection
from statemachine.errors import ConcurrentUpdate, NotFound
from statemachine.lifecycle import Fired
from statemachine.order import Order, OrderLine, OrderState
from statemachine.shipment import Shipment, ShipmentState

ORDERS, LINES = OrderRow.__table__, OrderLineRow.__table__
SHIPMENTS, CASES = ShipmentRow.__table__, CaseRow.__table__
HISTORY, OUTBOX = TransitionRow.__table__, OutboxRow.__table__
DEADLINES, INBOX = DeadlineRow.__table__, InboxRow.__table__

ORDER_COLS = ("id, buyer_id, state, version, currency, total, paid, refunded, payment_ref, "
              "hold_expires_at, attrs, created_at")
SHIPMENT_COLS = ("id, order_id, state, version, warehouse, carrier, tracking_no, created_at, "
                 "last_scan_at, promised_by, stall_reason, reached")
CASE_COLS = ("id, order_id, kind, state, version, reason, lines, created_at, inspection, "
             "refunded")
HISTORY_COLS = "entity, entity_id, order_id, trigger, from_state, to_state, actor, at, payload"


class Store:
    """Aggregates in and out of the database, on the connection of one unit of work."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.sql = Sql(connection)

    # --- orders -----------------------------------------------------------------------------

    def get_order(self, order_id: int, *, lock: bool = False) -> Order:
        """The order and its lines; `lock` holds its row until commit (PostgreSQL; SQLite's
        write transactions are already exclusive). Lock order: see `lock_order`."""
        lock_sql = " FOR UPDATE" if lock and not self.sql.sqlite else ""
        row = self.sql.one(f"SELECT {ORDER_COLS} FROM orders WHERE id = :id{lock_sql}",
                           {"id": order_id})
        if row is None:
            raise NotFound("order", f"o-{order_id}")
        lines = self.sql.all("SELECT line_no, sku, quantity, unit_price, refunded_quantity "
                             "FROM order_lines WHERE order_id = :id ORDER BY line_no",
                             {"id": order_id})
        return self.order_from_row(row, [OrderLine(*ln) for ln in lines])

    def lock_order(self, order_id: int) -> None:
        """Hold the order's row until commit: the aggregate lock.

        Every command on an order, its parcels or its cases takes this lock first, before it
        reads or writes any of them (lock order: order → parcels → cases → inventory rows by
        (sku, warehouse) → deadlines → buyers). So a decision that reads siblings — the last
        open parcel, refunded ≤ paid across cases — reads them after any concurrent change to
        the same order has committed, and two commands on one order queue instead of
        deadlocking. SQLite needs nothing: its write transactions are already exclusive.
        """
        if not self.sql.sqlite:
            self.sql.run("SELECT id FROM orders WHERE id = :id FOR UPDATE", {"id": order_id})

    def _lock_parent(self, table: str, child_id: int) -> None:
        row = None if self.sql.sqlite else self.sql.one(
            f"SELECT order_id FROM {table} WHERE id = :id", {"id": child_id})
        if row is not None:
            self.lock_order(row[0])

    def order_from_row(self, row: Any, lines: list[OrderLine]) -> Order:
        when, doc = self.sql.when, self.sql.doc
        return Order(id=row[0], buyer_id=row[1], state=OrderState(row[2]), version=row[3],
                     currency=row[4], total=row[5], paid=row[6], refunded=row[7],
                     payment_ref=row[8], hold_expires_at=when(row[9]),
                     attrs=doc(row[10]) or {}, created_at=when(row[11]), lines=lines)

    def add_order(self, values: dict[str, Any], lines: list[dict[str, Any]]) -> int:
        order_id = self.sql.insert_id(
            "INSERT INTO orders (buyer_id, state, version, currency, total, paid, refunded, "
            "payment_ref, hold_expires_at, attrs, created_at, updated_at) VALUES (:buyer_id, "
            ":state, :version, :currency, :total, :paid, :refunded, :payment_ref, "
            ":hold_expires_at, :attrs, :created_at, :updated_at)", values)
        self.sql.many("INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price, "
                      "refunded_quantity) VALUES (:order_id, :line_no, :sku, :quantity, "
                      ":unit_price, :refunded_quantity)",
                      [{**ln, "order_id": order_id} for ln in lines])
        return order_id

    def save_order(self, order: Order, at: datetime) -> None:
        self._save("orders", order, at, "state = :state, paid = :paid, refunded = :refunded, "
                   "payment_ref = :payment_ref, hold_expires_at = :hold, attrs = :attrs, "
                   "updated_at = :at", state=order.state.value, paid=order.paid,
                   refunded=order.refunded, payment_ref=order.payment_ref,
                   hold=order.hold_expires_at, attrs=order.attrs)

    def save_order_lines(self, order: Order) -> None:
        self.sql.many("UPDATE order_lines SET refunded_quantity = :q "
                      "WHERE order_id = :order_id AND line_no = :line_no",
                      [{"q": ln.refunded_quantity, "order_id": order.id,
                        "line_no": ln.line_no} for ln in order.lines])

    # --- shipments ----------------------------------------------------------------------------

    def get_shipment(self, shipment_id: int, *, lock: bool = False) -> Shipment:
        """The parcel; `lock` takes its order's lock first (see `lock_order`)."""
        if lock:
            self._lock_parent("shipments", shipment_id)
        row = self.sql.one(f"SELECT {SHIPMENT_COLS} FROM shipments WHERE id = :id",
                           {"id": shipment_id})
        if row is None:
            raise NotFound("shipment", f"s-{shipment_id}")
        return self._shipment(row)

    def shipments_of(self, order_id: int) -> list[Shipment]:
        return [self._shipment(r) for r in self.sql.all(
            f"SELECT {SHIPMENT_COLS} FROM shipments WHERE order_id = :id ORDER BY id",
            {"id": order_id})]

    def add_shipment(self, values: dict[str, Any]) -> int:
        return self.sql.insert_id(
            "INSERT INTO shipments (order_id, state, version, warehouse, carrier, tracking_no, "
            "created_at, last_scan_at, promised_by, stall_reason, reached) VALUES (:order_id, "
            ":state, :version, :warehouse, :carrier, :tracking_no, :created_at, :last_scan_at, "
            ":promised_by, :stall_reason, :state)", values)

    def save_shipment(self, s: Shipment, at: datetime) -> None:
        self._save("shipments", s, at, "state = :state, last_scan_at = :scan, "
                   "stall_reason = :stall, reached = :reached", state=s.state.value,
                   scan=s.last_scan_at, stall=s.stall_reason,
                   reached=s.reached.value if s.reached else None)

    def _shipment(self, r: Row) -> Shipment:
        when = self.sql.when
        return Shipment(id=r[0], order_id=r[1], state=ShipmentState(r[2]), version=r[3],
                        warehouse=r[4], carrier=r[5], tracking_no=r[6], created_at=when(r[7]),
                        last_scan_at=when(r[8]), promised_by=when(r[9]), stall_reason=r[10],
                        reached=ShipmentState(r[11]) if r[11] else None)

    # --- after-sales cases --------------------------------------------------------------------

    def get_case(self, case_id: int, *, lock: bool = False) -> AfterSalesCase:
        """The case; `lock` takes its order's lock first (see `lock_order`)."""
        if lock:
            self._lock_parent("aftersales_cases", case_id)
        row = self.sql.one(f"SELECT {CASE_COLS} FROM aftersales_cases WHERE id = :id",
                           {"id": case_id})
        if row is None:
            raise NotFound("case", f"c-{case_id}")
        return self._case(row)

    def cases_of(self, order_id: int) -> list[AfterSalesCase]:
        return [self._case(r) for r in self.sql.all(
            f"SELECT {CASE_COLS} FROM aftersales_cases WHERE order_id = :id ORDER BY id",
            {"id": order_id})]

    def add_case(self, values: dict[str, Any]) -> int:
        return self.sql.insert_id(
            "INSERT INTO aftersales_cases (order_id, kind, state, version, reason, lines, "
            "inspection, refunded, created_at, updated_at) VALUES (:order_id, :kind, :state, "
            ":version, :reason, :lines, :inspection, :refunded, :created_at, :updated_at)",
            values)

    def save_case(self, case: AfterSalesCase, at: datetime) -> None:
        self._save("aftersales_cases", case, at, "state = :state, refunded = :refunded, "
                   "inspection = :inspection, updated_at = :at", state=case.state.value,
                   refunded=case.refunded,
                   inspection=case.inspection.value if case.inspection else None)

    def _case(self, r: Row) -> AfterSalesCase:
        return AfterSalesCase(
            id=r[0], order_id=r[1], kind=CaseKind(r[2]), state=CaseState(r[3]), version=r[4],
            reason=r[5], created_at=self.sql.when(r[7]),
            lines=tuple(CaseLine(ln["line_no"], ln["quantity"], ln["amount"])
                        for ln in self.sql.doc(r[6])),
            inspection=Inspection(r[8]) if r[8] else None, refunded=r[9])

    # --- history, outbox, deadlines, inbox --------------------------------------------------

    def record(self, fired: Fired, entity_id: int, order_id: int,
               event_data: dict[str, Any]) -> None:
        """Append the transition to the history and the outbox (same transaction)."""
        self.record_many([(fired, entity_id, order_id, event_data)])

    def record_many(self, items: list[tuple[Fired, int, int, dict[str, Any]]]) -> None:
        if not items:
            return
        self.sql.many(f"INSERT INTO transition_history ({HISTORY_COLS}) VALUES (:entity, "
                      ":entity_id, :order_id, :trigger, :from_state, :to_state, :actor, :at, "
                      ":payload)", [_history_row(*item[:3]) for item in items])
        self.sql.many("INSERT INTO outbox (event, entity, entity_id, order_id, payload, "
                      "created_at) VALUES (:event, :entity, :entity_id, :order_id, :payload, "
                      ":created_at)", [_outbox_row(*item) for item in items])

    def record_signal(self, name: str, entity: str, entity_id: int, order_id: int,
                      at: datetime, data: dict[str, Any]) -> None:
        """An outbox event that is not a transition (an SLA breach, an escalation)."""
        self.sql.run("INSERT INTO outbox (event, entity, entity_id, order_id, payload, "
                     "created_at) VALUES (:event, :entity, :entity_id, :order_id, :payload, :at)",
                     {"event": f"orderpilot.{entity}.{name}", "entity": entity,
                      "entity_id": entity_id, "order_id": order_id, "at": at,
                      "payload": {"order_id": f"o-{order_id}", "at": at.isoformat(), **data}})

    def history(self, order_id: int) -> list[dict[str, Any]]:
        rows = self.sql.all(f"SELECT {HISTORY_COLS} FROM transition_history "
                            "WHERE order_id = :id ORDER BY id", {"id": order_id})
        names = HISTORY_COLS.split(", ")
        return [{**dict(zip(names, r, strict=True)), "at": self.sql.when(r[7]),
                 "payload": self.sql.doc(r[8]) or {}} for r in rows]

    def set_deadline(self, kind: str, entity: str, entity_id: int, order_id: int,
                     due_at: datetime) -> None:
        self.clear_deadlines(entity, entity_id, kind)
        self.sql.run("INSERT INTO deadlines (kind, entity, entity_id, order_id, due_at) "
                     "VALUES (:kind, :entity, :entity_id, :order_id, :due_at)",
                     {"kind": kind, "entity": entity, "entity_id": entity_id,
                      "order_id": order_id, "due_at": due_at})

    def clear_deadlines(self, entity: str, entity_id: int, kind: str | None = None) -> None:
        self.sql.run("DELETE FROM deadlines WHERE entity = :entity AND entity_id = :id"
                     + (" AND kind = :kind" if kind else ""),
                     {"entity": entity, "id": entity_id, **({"kind": kind} if kind else {})})

    def inbox_get(self, key: str) -> dict[str, Any] | None:
        row = self.sql.one("SELECT result FROM inbox WHERE key = :key", {"key": key})
        return None if row is None else self.sql.doc(row[0])

    def inbox_put(self, key: str, kind: str, result: dict[str, Any], at: datetime) -> None:
        self.sql.run("INSERT INTO inbox (key, kind, result, created_at) "
                     "VALUES (:key, :kind, :result, :at)",
                     {"key": key, "kind": kind, "result": result, "at": at})

    # --- helpers ----------------------------------------------------------------------------

    def _save(self, table: str, aggregate: Any, at: datetime, assignments: str,
              **values: Any) -> None:
        cursor = self.sql.run(
            f"UPDATE {table} SET {assignments}, version = version + 1 "
            "WHERE id = :id AND version = :version",
            {**values, "at": at, "id": aggregate.id, "version": aggregate.version})
        if cursor.rowcount != 1:
            raise ConcurrentUpdate(table.rstrip("s").replace("aftersales_case", "case"),
                                   aggregate.public_id, aggregate.version)
        aggregate.version += 1


Row = tuple[Any, ...]


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
            "created_at": fired.at}
