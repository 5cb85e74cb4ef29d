"""The store: load aggregates and read history on the unit of work's connection.

Rows become aggregates through the mappings of rows.py (generated from the typed schema);
every write of the lifecycle tables goes through writer.py. The inbox (idempotency keys of
processed commands) lives here: it is not part of any lifecycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from integrations.db import rows, turns
from integrations.db.schema import (
    BuyerRow,
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
from integrations.db.stock import in_list
from statemachine import ids
from statemachine.aftersales import AfterSalesCase
from statemachine.claim import Claim
from statemachine.errors import NotFound
from statemachine.order_aggregate import Order, OrderLine
from statemachine.shipment import Shipment, ShipmentState

# the tables, for the cold queries of other modules (Core selects)
ORDERS, LINES = OrderRow.__table__, OrderLineRow.__table__
SHIPMENTS, CASES = ShipmentRow.__table__, CaseRow.__table__
HISTORY, OUTBOX = TransitionRow.__table__, OutboxRow.__table__
DEADLINES, INBOX = DeadlineRow.__table__, InboxRow.__table__
BUYERS = BuyerRow.__table__
INBOX_ENTRY = rows.Insert(INBOX, but=())
INBOX_FIRST = rows.Insert(INBOX, but=(), key=("key",))  # DO NOTHING: the first writer's stays
INBOX_REPLACE = rows.Insert(INBOX, but=(), key=("key",), update=("result", "created_at"))
BUYER = rows.Insert(BUYERS, but=(), key=("id",))  # DO NOTHING: the first order's row stays
NEW_BUYER_SCORE = BUYERS.c.credit_score.default.arg  # the schema's default, 100
HISTORY_COLUMNS = ("entity", "entity_id", "order_id", "trigger", "from_state", "to_state",
                   "actor", "at", "payload")
ORDER_WITH_LINES = (
    f"SELECT {', '.join('o.' + c for c in rows.ORDERS.columns)}, "
    f"{', '.join('l.' + c for c in rows.LINES.columns)} FROM orders o "
    "LEFT JOIN order_lines l ON l.order_id = o.id WHERE o.id = :id ORDER BY l.line_no")


@dataclass(frozen=True, slots=True)
class Due:
    """A timer that fell due."""

    id: int
    kind: str
    entity: str
    entity_id: int
    order_id: int


class Store:
    """Aggregates out of the database, on the connection of one unit of work."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.sql = Sql(connection)
        self._turns: set[int] = set()  # keys of the turns this unit of work holds (`take_turn`)

    def forget(self) -> None:
        """Start a new unit of work on this connection: no turn held any more."""
        self._turns.clear()

    def ping(self) -> None:
        """One round trip to the database (a health check)."""
        self.sql.one("SELECT 1")

    # --- orders -----------------------------------------------------------------------------

    def get_order(self, order_id: int, *, lock: bool = False) -> Order:
        """The order and its lines; `lock` holds its row until commit (PostgreSQL; SQLite's
        write transactions are already exclusive). See `lock_orders` for why."""
        if lock and not self.sql.sqlite:
            self.sql.one("SELECT id FROM orders WHERE id = :id FOR UPDATE", {"id": order_id})
        found = self.sql.all(ORDER_WITH_LINES, {"id": order_id})  # one statement, not two
        if not found:
            raise NotFound("order", ids.ORDER(order_id))
        width = len(rows.ORDERS.columns)
        lines = [rows.LINES.load(self.sql, r[width:]) for r in found if r[width] is not None]
        return rows.ORDERS.load(self.sql, found[0][:width], lines=lines)

    def orders(self, order_ids: Sequence[int], *, with_lines: bool = True) -> dict[int, Order]:
        """Several orders at once (the bulk paths), by id; unknown ids are left out."""
        if not order_ids:
            return {}
        where, params = in_list("id", list(order_ids))
        lines: dict[int, list[OrderLine]] = {}
        if with_lines:
            line_where, line_params = in_list("order_id", list(order_ids))
            for r in self.sql.all(f"SELECT order_id, {', '.join(rows.LINES.columns)} FROM "
                                  f"order_lines WHERE {line_where} ORDER BY order_id, line_no",
                                  line_params):
                lines.setdefault(r[0], []).append(rows.LINES.load(self.sql, r[1:]))
        return {r[0]: rows.ORDERS.load(self.sql, r, lines=lines.get(r[0], []))
                for r in self.sql.all(f"{rows.ORDERS.select} WHERE {where}", params)}

    # --- shipments ----------------------------------------------------------------------------

    def get_shipment(self, shipment_id: int, *, lock: bool = False) -> Shipment:
        """The parcel; `lock` takes its order's lock first and reads the parcel after it."""
        if lock:
            self._lock_parent("shipments", shipment_id)
        row = self.sql.one(f"{rows.SHIPMENTS.select} WHERE id = :id", {"id": shipment_id})
        if row is None:
            raise NotFound("shipment", ids.SHIPMENT(shipment_id))
        return rows.SHIPMENTS.load(self.sql, row)

    def shipments(self, shipment_ids: Sequence[int]) -> dict[int, Shipment]:
        if not shipment_ids:
            return {}
        where, params = in_list("id", list(shipment_ids))
        return {r[0]: rows.SHIPMENTS.load(self.sql, r)
                for r in self.sql.all(f"{rows.SHIPMENTS.select} WHERE {where}", params)}

    def shipments_of(self, order_id: int) -> list[Shipment]:
        return [rows.SHIPMENTS.load(self.sql, r) for r in self.sql.all(
            f"{rows.SHIPMENTS.select} WHERE order_id = :id ORDER BY id", {"id": order_id})]

    def stalled_parcels(self) -> list[tuple[int, int, str, str, str | None]]:
        """(parcel, order, carrier, tracking no, stall reason) of every stalled parcel, by id."""
        c = SHIPMENTS.c
        return [tuple(r) for r in self.connection.execute(
            select(c.id, c.order_id, c.carrier, c.tracking_no, c.stall_reason)
            .where(c.state == ShipmentState.STALLED.value).order_by(c.id))]

    def silent_stalled_parcels(self, since: datetime) -> list[int]:
        """Stalled parcels with no scan (nor creation) after `since`, by id."""
        return [r[0] for r in self.sql.all(
            "SELECT id FROM shipments WHERE state = 'stalled' AND "
            "COALESCE(last_scan_at, created_at) <= :limit ORDER BY id", {"limit": since})]

    def last_fired_at(self, entity: str, entity_id: int, order_id: int, trigger: str
                      ) -> datetime | None:
        """When `trigger` last fired on this entity of order `order_id` (None: never).
        The order narrows the history to its own rows (ix_transition_history_order_id);
        without it every call read the whole history."""
        return self.connection.execute(
            select(HISTORY.c.at).where(HISTORY.c.order_id == order_id,
                                       HISTORY.c.entity == entity,
                                       HISTORY.c.entity_id == entity_id,
                                       HISTORY.c.trigger == trigger)
            .order_by(HISTORY.c.id.desc())).scalar()

    # --- after-sales cases and claims -----------------------------------------------------------

    def get_case(self, case_id: int, *, lock: bool = False) -> AfterSalesCase:
        """The case; `lock` takes its order's lock first and reads the case after it."""
        if lock:
            self._lock_parent("aftersales_cases", case_id)
        row = self.sql.one(f"{rows.CASES.select} WHERE id = :id", {"id": case_id})
        if row is None:
            raise NotFound("case", ids.CASE(case_id))
        return rows.CASES.load(self.sql, row)

    def cases_of(self, order_id: int) -> list[AfterSalesCase]:
        return [rows.CASES.load(self.sql, r) for r in self.sql.all(
            f"{rows.CASES.select} WHERE order_id = :id ORDER BY id", {"id": order_id})]

    def get_claim(self, claim_id: int) -> Claim:
        row = self.sql.one(f"{rows.CLAIMS.select} WHERE id = :id", {"id": claim_id})
        if row is None:
            raise NotFound("claim", ids.CLAIM(claim_id))
        return rows.CLAIMS.load(self.sql, row)

    # --- history, inbox ---------------------------------------------------------------------

    def history(self, order_id: int) -> list[dict[str, Any]]:
        rows = self.sql.all(f"SELECT {', '.join(HISTORY_COLUMNS)} FROM transition_history "
                            "WHERE order_id = :id ORDER BY id", {"id": order_id})
        return [{**dict(zip(HISTORY_COLUMNS, r, strict=True)), "at": self.sql.when(r[7]),
                 "payload": self.sql.doc(r[8]) or {}} for r in rows]

    def inbox_get(self, key: str) -> dict[str, Any] | None:
        row = self.sql.one("SELECT result FROM inbox WHERE key = :key", {"key": key})
        return None if row is None else self.sql.doc(row[0])

    def inbox_put(self, key: str, kind: str, result: dict[str, Any], at: datetime) -> None:
        INBOX_ENTRY.write_row(self.sql, {"key": key, "kind": kind, "result": result,
                                         "created_at": at})

    def inbox_keep(self, key: str, kind: str, result: dict[str, Any], at: datetime
                   ) -> dict[str, Any]:
        """The result kept under `key`: `result` if the key is new, else the one a concurrent
        or earlier writer kept (ON CONFLICT DO NOTHING waits for an uncommitted writer, and the
        read after it sees what that writer committed)."""
        INBOX_FIRST.write_row(self.sql, {"key": key, "kind": kind, "result": result,
                                         "created_at": at})
        kept = self.inbox_get(key)
        assert kept is not None
        return kept

    def inbox_replace(self, key: str, kind: str, result: dict[str, Any], at: datetime) -> None:
        """Keep `result` under `key`, replacing what was kept (the store's new identity)."""
        INBOX_REPLACE.write_row(self.sql, {"key": key, "kind": kind, "result": result,
                                           "created_at": at})

    def ensure_buyer(self, buyer_id: str, at: datetime) -> None:
        """A buyer's first order creates the buyer row (ON CONFLICT works on both stores)."""
        BUYER.later(self.sql, [{"id": buyer_id, "created_at": at,
                                "credit_score": NEW_BUYER_SCORE}])

    def placing_for(self, keys: Iterable[tuple[str, str]]) -> None:
        """Placements that share a buyer, a device, an IP, an address or a phone ((kind,
        value) pairs) take turns until commit, so each reads the risk signals (velocity,
        accounts per device or phone) with the others counted; an address correction takes
        its buyer's and its new address's and numbers' turns too (it moves what they count).
        Both take them before any row lock and nothing else takes them: they add no edge to
        the row lock order."""
        self.take_turn(*(f"placing:{kind}:{value}" for kind, value in keys))

    def take_turn(self, *names: str) -> None:
        """Wait for the other transactions that took a turn by any of these names, until
        commit (PostgreSQL: transaction-scoped advisory locks, `turns.py`, taken in one
        statement in ascending key order, so two callers never wait for each other in a
        circle; SQLite's writers take turns anyway). Take them before any row lock — or, as a
        ship's waybills do (service/waybills.py), after the caller's own aggregates' locks
        only, with every turn taken before the rows written later (the waybill counters): no
        circle. Turns of different kinds go in one sequence (a Shopify order's, then the
        placement's; a ship's waybills after its orders), never the other way round.
        A batch takes all its turns in one call (sorted, as one caller's are): taken one
        caller at a time, two batches naming the same turns in opposite order could wait for
        each other. A turn this unit of work holds already is not asked again (no round
        trip). A unit of work is one transaction, or one savepoint of a group commit, with a
        Store of its own; a savepoint inside one (begin_nested) must not take turns: rolled
        back, PostgreSQL would release them and this Store would think them held."""
        if self.sql.sqlite:
            return
        wanted = {turns.turn_key(name) for name in names} - self._turns
        self._turns.update(turns.take(self.sql, wanted))  # held until commit

    def open_parcels(self, order_ids: Sequence[int]) -> dict[int, int]:
        """Per order, its parcels not delivered yet (a lost / returned parcel whose buyer was
        compensated is settled, not awaited; after-sales parcels are the case's, not the
        order's). Orders with none open are left out."""
        if not order_ids:
            return {}
        where, params = in_list("s.order_id", list(order_ids))
        return dict(self.sql.all(
            f"SELECT s.order_id, count(*) FROM shipments s WHERE {where} "
            "AND s.purpose = 'order' AND s.state != 'delivered' AND NOT EXISTS (SELECT 1 "
            "FROM parcel_claims c WHERE c.shipment_id = s.id AND c.kind IN ('lost', 'returned')) "
            "GROUP BY s.order_id", params))

    def count_orders(self) -> int:
        """How many orders the store holds."""
        return int(self.sql.one("SELECT count(*) FROM orders")[0])

    def buyer_of(self, order_id: int) -> str:
        """Who placed the order (NotFound naming it: no such order)."""
        row = self.sql.one("SELECT buyer_id FROM orders WHERE id = :id", {"id": order_id})
        if row is None:
            raise NotFound("order", ids.ORDER(order_id))
        return row[0]

    def lock_orders(self, order_ids: Sequence[int]) -> None:
        """Hold these orders' rows until commit, in id order: the aggregate lock (PostgreSQL;
        a SQLite write transaction is exclusive already).

        A command on an order, its parcels or its cases takes it before it reads any of them
        (the lock order, docs/design.md: turns → orders → a ship's waybill turns → their
        parcels, cases, claims → inventory rows by (sku, warehouse) → deadlines → buyers by
        id). So a decision that reads siblings — the last open parcel,
        refunded ≤ paid across cases — sees every concurrent change to the same order, and
        two commands on one order queue instead of failing their version check or deadlocking.
        """
        if order_ids and not self.sql.sqlite:
            where, params = in_list("id", sorted(order_ids))
            self.sql.all(f"SELECT id FROM orders WHERE {where} ORDER BY id FOR UPDATE", params)

    def _lock_parent(self, table: str, child_id: int) -> None:
        """The aggregate lock of a parcel's or case's order (its order id never changes)."""
        if not self.sql.sqlite:
            row = self.sql.one(f"SELECT order_id FROM {table} WHERE id = :id", {"id": child_id})
            if row is not None:
                self.lock_orders([row[0]])

    # --- due timers (the sweep) --------------------------------------------------------------

    def due_deadlines(self, now: datetime, limit: int,
                      passed: Sequence[int] = ()) -> list[Due]:
        """The next timers due at `now`, oldest first, leaving out those of the `passed`
        orders (not locked: see `take_due`)."""
        where, params = in_list("order_id", sorted(passed)) if passed else ("", {})
        return [Due(*r) for r in self.sql.all(
            "SELECT id, kind, entity, entity_id, order_id FROM deadlines WHERE due_at <= :now"
            + (f" AND NOT {where}" if where else "") + " ORDER BY due_at, id LIMIT :limit",
            {"now": now, "limit": limit, **params})]

    def take_due(self, due: Sequence[Due], now: datetime) -> tuple[list[Due], list[Due]]:
        """Lock the orders of these timers in id order, skipping any another transaction holds
        (PostgreSQL `FOR UPDATE SKIP LOCKED`), and delete the timers of the orders taken;
        returns (the timers taken, those skipped). The order is locked, not the parcel or case
        the timer belongs to, because every write path locks the order first (`lock_orders`):
        a sweep that locked a parcel and then wanted its order would close a circle with a
        carrier scan holding the order and wanting the parcel. Skipped timers stay for the
        next sweep; a timer a committed transaction removed or re-armed for later meanwhile (a
        scan arrived) is no longer due and is dropped. Deleting before the handlers run
        matters: a handler may arm a new timer, and SQLite may give it a deleted row's id."""
        numbers = sorted({row.order_id for row in due})
        if numbers and not self.sql.sqlite:  # SQLite: the write transaction is exclusive
            where, params = in_list("id", numbers)
            numbers = [r[0] for r in self.sql.all(
                f"SELECT id FROM orders WHERE {where} ORDER BY id FOR UPDATE SKIP LOCKED",
                params)]
        held = set(numbers)
        taken = [row for row in due if row.order_id in held]
        skipped = [row for row in due if row.order_id not in held]
        if not taken:
            return [], skipped
        where, params = in_list("id", [row.id for row in taken])
        deleted = {r[0] for r in self.sql.all(
            f"DELETE FROM deadlines WHERE {where} AND due_at <= :now RETURNING id",
            {**params, "now": now})}
        return [row for row in taken if row.id in deleted], skipped
