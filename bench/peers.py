"""The two baselines of bench/lifecycle.py's place + pay: the raw floor and the naive peer.

`RawRows` is plain sqlite3 writing exactly the rows the public API writes for an order placed
and paid (same schema, same JSON documents, built per order the same way, two transactions),
with nothing else: no loading, no guards, no mapping. `NaivePeer` is what a user would write
first with the same libraries: the SQLAlchemy ORM on the store's own mapped rows and a
`transitions` Machine per loaded order.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from transitions import Machine

from bench.sqlite_level import level
from integrations.db.engine import make_engine, tune_sqlite_connection
from integrations.db.schema import (
    BuyerRow,
    DeadlineRow,
    InventoryRow,
    OrderLineRow,
    OrderRow,
    OutboxRow,
    StockHoldRow,
    TransitionRow,
)
from orderpilot import ManualClock, OrderPilot
from statemachine.risk_port import approve_everything

T0 = datetime(2026, 11, 11, tzinfo=UTC)
HOLD = timedelta(minutes=20)
TABLES = ("orders", "order_lines", "stock_holds", "transition_history", "outbox", "deadlines")


def _ts(when: datetime) -> str:
    return when.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


class RawRows:
    """Place + pay as raw sqlite3 writing the API's rows (templates taken from one API order)."""

    def __init__(self, path: Path, sku: str, warehouse: str, price: int,
                 address: dict[str, str], stock: int):
        pilot = OrderPilot(f"sqlite:///{path}", clock=ManualClock(T0),
                           risk_check=approve_everything)
        pilot.inventory.receive(sku=sku, warehouse=warehouse, quantity=stock)
        order = pilot.orders.place(buyer_id="b-template", shipping_address=address,
                                   lines=[{"sku": sku, "quantity": 1, "unit_price": price}])
        pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref="p-template")
        pilot.close()
        self.db = sqlite3.connect(path)
        tune_sqlite_connection(self.db, level())
        self.attrs = json.loads(self.db.execute("SELECT attrs FROM orders").fetchone()[0])
        self.history = [json.loads(r[0]) for r in self.db.execute(
            "SELECT payload FROM transition_history ORDER BY id")]
        self.events = [(r[0], json.loads(r[1])) for r in self.db.execute(
            "SELECT event, payload FROM outbox ORDER BY id")]
        self.sku, self.warehouse, self.price = sku, warehouse, price
        self.next_id = 2

    def place_and_pay(self, n: int) -> None:
        db, number, now = self.db, self.next_id, datetime.now(UTC)
        self.next_id += 1
        at, hold = _ts(now), _ts(now + HOLD)
        buyer, ref, public = f"b-{n % 500}", f"p-{n}", f"o-{number}"
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO buyers (id, created_at, credit_score) VALUES (?, ?, 100) "
                   "ON CONFLICT (id) DO NOTHING", (buyer, at))
        db.execute("INSERT INTO orders (id, buyer_id, state, version, currency, total, paid, "
                   "refunded, payment_ref, hold_expires_at, attrs, created_at, updated_at) "
                   "VALUES (?, ?, 'awaiting_payment', 2, 'CNY', ?, 0, 0, NULL, ?, ?, ?, ?)",
                   (number, buyer, self.price, hold, json.dumps(self.attrs), at, at))
        db.execute("INSERT INTO order_lines VALUES (?, 1, ?, 1, ?, 0)",
                   (number, self.sku, self.price))
        taken = db.execute("UPDATE inventory SET reserved = reserved + 1 WHERE sku = ? AND "
                           "warehouse = ? AND on_hand - reserved >= 1", (self.sku, self.warehouse))
        assert taken.rowcount == 1
        db.execute("INSERT INTO stock_holds (order_id, line_no, sku, warehouse, quantity, status,"
                   " created_at) VALUES (?, 1, ?, ?, 1, 'held', ?)",
                   (number, self.sku, self.warehouse, at))
        db.execute("INSERT INTO deadlines (kind, entity, entity_id, order_id, due_at) VALUES "
                   "('hold_expiry', 'order', ?, ?, ?)", (number, number, hold))
        self._record(number, at, [("place", None, "created", 0), ("approve", "created",
                                                                   "awaiting_payment", 1)],
                     {"order_id": public, "entity_id": public, "buyer_id": buyer})
        db.execute("COMMIT")
        db.execute("BEGIN IMMEDIATE")
        done = db.execute("UPDATE orders SET state = 'paid', paid = ?, payment_ref = ?, "
                          "hold_expires_at = NULL, version = 3, updated_at = ? "
                          "WHERE id = ? AND version = 2", (self.price, ref, at, number))
        assert done.rowcount == 1
        db.execute("UPDATE inventory SET on_hand = on_hand - 1, reserved = reserved - 1 "
                   "WHERE sku = ? AND warehouse = ?", (self.sku, self.warehouse))
        db.execute("UPDATE stock_holds SET status = 'consumed' WHERE order_id = ? AND "
                   "status = 'held'", (number,))
        db.execute("DELETE FROM deadlines WHERE entity = 'order' AND entity_id = ? AND "
                   "kind = 'hold_expiry'", (number,))
        self._record(number, at, [("pay", "awaiting_payment", "paid", 2)],
                     {"order_id": public, "entity_id": public, "buyer_id": buyer,
                      "payment_ref": ref})
        db.execute("COMMIT")

    def _record(self, number: int, at: str, steps: list[tuple[str, str | None, str, int]],
                ids: dict[str, str]) -> None:
        """History and outbox rows from the templates, with this order's ids (JSON per row)."""
        history, outbox = [], []
        for trigger, source, dest, i in steps:
            payload = {**self.history[i]}
            if "payment_ref" in payload:
                payload["payment_ref"] = ids["payment_ref"]
            history.append(("order", number, number, trigger, source, dest, "api", at,
                            json.dumps(payload, ensure_ascii=False)))
            event, doc = self.events[i]
            doc = {**doc, "order_id": ids["order_id"], "entity_id": ids["entity_id"],
                   "buyer_id": ids["buyer_id"], "details": payload}
            outbox.append((event, "order", number, number,
                           json.dumps(doc, ensure_ascii=False), at))
        self.db.executemany("INSERT INTO transition_history (entity, entity_id, order_id, "
                            "trigger, from_state, to_state, actor, at, payload) VALUES "
                            "(?, ?, ?, ?, ?, ?, ?, ?, ?)", history)
        self.db.executemany("INSERT INTO outbox (event, entity, entity_id, order_id, payload, "
                            "created_at) VALUES (?, ?, ?, ?, ?, ?)", outbox)

    def same_rows_as(self, api_db: str) -> dict[str, Any]:
        """Rows per order in each table, here and in the API's database (they must match)."""
        api = sqlite3.connect(api_db)
        mine = {t: self.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        theirs = {t: api.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        orders = (mine["orders"], theirs["orders"])
        api.close()
        per_order = {t: (round(mine[t] / orders[0], 3), round(theirs[t] / orders[1], 3))
                     for t in TABLES}
        return {"match": all(a == b for a, b in per_order.values()),
                "raw_vs_api": per_order}


class _Machined:
    """The model a per-order `transitions` Machine drives (the naive way)."""

    def __init__(self, state: str):
        self.state = state


ORDER_TRANSITIONS = [
    {"trigger": "approve", "source": "created", "dest": "awaiting_payment"},
    {"trigger": "pay", "source": "awaiting_payment", "dest": "paid"},
]
STATES = ["created", "awaiting_payment", "paid"]


class NaivePeer:
    """Place + pay with the ORM and a Machine built for every order it loads."""

    def __init__(self, path: Path, sku: str, warehouse: str, price: int,
                 address: dict[str, str], stock: int):
        OrderPilot(f"sqlite:///{path}", risk_check=approve_everything).close()  # schema
        self.engine = make_engine(f"sqlite:///{path}", sqlite_synchronous=level())
        self.sku, self.warehouse, self.price, self.address = sku, warehouse, price, address
        with Session(self.engine) as session, session.begin():
            session.add(InventoryRow(sku=sku, warehouse=warehouse, on_hand=stock, reserved=0))

    def place_and_pay(self, n: int) -> None:
        number = self._place(n)
        self._pay(number, f"p-{n}")

    def _place(self, n: int) -> int:
        now, buyer = datetime.now(UTC), f"b-{n % 500}"
        with Session(self.engine) as session, session.begin():
            if session.get(BuyerRow, buyer) is None:
                session.add(BuyerRow(id=buyer, created_at=now, credit_score=100))
            stock = session.scalars(select(InventoryRow).where(
                InventoryRow.sku == self.sku,
                InventoryRow.on_hand - InventoryRow.reserved >= 1)).first()
            assert stock is not None
            stock.reserved += 1
            order = OrderRow(buyer_id=buyer, state="created", version=1, currency="CNY",
                             total=self.price, paid=0, refunded=0,
                             attrs={"shipping_address": self.address}, created_at=now,
                             updated_at=now)
            session.add(order)
            session.flush()
            session.add(OrderLineRow(order_id=order.id, line_no=1, sku=self.sku, quantity=1,
                                     unit_price=self.price, refunded_quantity=0))
            session.add(StockHoldRow(order_id=order.id, line_no=1, sku=self.sku,
                                     warehouse=stock.warehouse, quantity=1, status="held",
                                     created_at=now))
            self._record(session, order, None, "created", "place", now)
            self._fire(session, order, "approve", now)
            order.hold_expires_at = now + HOLD
            session.add(DeadlineRow(kind="hold_expiry", entity="order", entity_id=order.id,
                                    order_id=order.id, due_at=order.hold_expires_at))
            return order.id

    def _pay(self, number: int, ref: str) -> None:
        now = datetime.now(UTC)
        with Session(self.engine) as session, session.begin():
            order = session.get(OrderRow, number)
            self._fire(session, order, "pay", now)
            order.paid, order.payment_ref, order.hold_expires_at = order.total, ref, None
            for hold in session.scalars(select(StockHoldRow).where(
                    StockHoldRow.order_id == number, StockHoldRow.status == "held")):
                hold.status = "consumed"
                stock = session.get(InventoryRow, (hold.sku, hold.warehouse))
                stock.on_hand -= hold.quantity
                stock.reserved -= hold.quantity
            session.execute(delete(DeadlineRow).where(DeadlineRow.entity == "order",
                                                      DeadlineRow.entity_id == number))

    def _fire(self, session: Session, order: OrderRow, trigger: str, now: datetime) -> None:
        model = _Machined(order.state)
        Machine(model=model, states=STATES, transitions=ORDER_TRANSITIONS, initial=order.state,
                auto_transitions=False)
        source = order.state
        getattr(model, trigger)()
        order.state, order.version, order.updated_at = model.state, order.version + 1, now
        self._record(session, order, source, model.state, trigger, now)

    def _record(self, session: Session, order: OrderRow, source: str | None, dest: str,
                trigger: str, now: datetime) -> None:
        session.add(TransitionRow(entity="order", entity_id=order.id, order_id=order.id,
                                  trigger=trigger, from_state=source, to_state=dest,
                                  actor="api", at=now, payload={}))
        session.add(OutboxRow(event=f"orderpilot.order.{dest}", entity="order",
                              entity_id=order.id, order_id=order.id, created_at=now,
                              payload={"order_id": f"o-{order.id}", "state": dest}))

    def close(self) -> None:
        self.engine.dispose()


__all__ = ["NaivePeer", "RawRows"]
