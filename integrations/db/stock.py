"""Inventory and stock holds. A hold is one atomic conditional UPDATE: it can never oversell."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from integrations.db.rows import Insert
from integrations.db.schema import InventoryRow, StockHoldRow
from integrations.db.sql import Sql, in_list
from statemachine.stock import Allocation, Availability

INVENTORY, HOLDS = InventoryRow.__table__, StockHoldRow.__table__
HELD, CONSUMED, RELEASED = "held", "consumed", "released"
MOVED = "moved"  # planned again elsewhere (an address corrected before picking): not live
HOLD = Insert(HOLDS, but=("id", "shipment_id"))  # a reship tags its parcel after (fulfil_store)
RECEIVE_SQL = ("INSERT INTO inventory (sku, warehouse, on_hand, reserved) "
               "VALUES (:sku, :wh, :q, 0) ON CONFLICT (sku, warehouse) DO UPDATE SET "
               "on_hand = inventory.on_hand + excluded.on_hand RETURNING on_hand")
RESERVE = ("UPDATE inventory SET reserved = reserved + :q WHERE sku = :sku AND warehouse = :wh "
           "AND on_hand - reserved >= :q")  # one statement: it can never oversell
ADJUST = ("UPDATE inventory SET on_hand = on_hand + :d_on_hand, reserved = reserved + "
          ":d_reserved WHERE sku = :sku AND warehouse = :wh")


def add_holds(sql: Sql, rows: Sequence[Mapping[str, Any]]) -> None:
    """New stock_holds rows (orders', refills', after-sales cases'), each naming every column
    but the id and the parcel, no more (ValueError otherwise); one statement."""
    HOLD.later(sql, rows)


@dataclass(frozen=True, slots=True)
class Drift:
    sku: str
    warehouse: str
    recorded: int
    from_holds: int


class StockStore:
    def __init__(self, connection: Connection, sql: Sql | None = None):
        self.connection = connection
        self.sql = sql or Sql(connection)  # the unit of work's own, when it has one

    def receive(self, sku: str, warehouse: str, quantity: int) -> int:
        """Add stock on hand (creating the sku × warehouse row); returns the new on_hand.
        One upsert: two first receipts of a sku at a warehouse at once both count (an UPDATE
        then an INSERT let the second INSERT hit the key on PostgreSQL)."""
        return int(self.sql.one(RECEIVE_SQL, {"sku": sku, "wh": warehouse, "q": quantity})[0])

    def availability(self, skus: Iterable[str]) -> Availability:
        """Free stock (on hand − reserved) per (sku, warehouse) for these skus."""
        where, params = in_list("sku", sorted(set(skus)))
        return {(sku, wh): free for sku, wh, free in self.sql.all(
            f"SELECT sku, warehouse, on_hand - reserved FROM inventory WHERE {where}", params)}

    def known_skus(self, skus: Iterable[str]) -> set[str]:
        """Skus with an inventory row in some warehouse (see also `availability`, whose keys
        name them: placement reads both from one statement)."""
        where, params = in_list("sku", sorted(set(skus)))
        return {r[0] for r in self.sql.all(f"SELECT DISTINCT sku FROM inventory WHERE {where}",
                                           params)}

    def try_hold(self, order_id: int, plan: list[Allocation], at: datetime) -> bool:
        """Reserve every allocation or none: False means a concurrent order took the stock.

        Inventory rows are taken in (sku, warehouse) order, the global lock order: two orders
        naming the same skus in opposite order cannot wait on each other."""
        for alloc in sorted(plan, key=lambda a: (a.sku, a.warehouse)):
            if not self._reserve(alloc):
                return False  # the caller rolls back the whole unit of work
        self._hold(order_id, plan, at)
        return True

    def move(self, order_id: int, plan: list[Allocation], at: datetime) -> bool:
        """Give an order's live units back (held: reserved drops; sold: back on hand), marked
        `moved`, and reserve `plan` instead — every row or none: False means a concurrent order
        took the stock (the caller rolls back). Not `released`: a released hold is what
        `revive` takes again (`released_plan`).

        The rows given back and the rows taken are touched in one (sku, warehouse) order, the
        global lock order: giving back Shenzhen's row and then taking Shanghai's (the plan's
        order) waited in a circle with a cancel or a placement taking Shanghai's then
        Shenzhen's, and PostgreSQL aborted one of them."""
        held, sold = self.holds_of([order_id], HELD), self.holds_of([order_id], CONSUMED)
        back: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])  # on_hand, reserved
        for hold in held:
            back[(hold.sku, hold.warehouse)][1] -= hold.quantity
        for hold in sold:
            back[(hold.sku, hold.warehouse)][0] += hold.quantity
        taken: dict[tuple[str, str], list[Allocation]] = defaultdict(list)
        for alloc in plan:
            taken[(alloc.sku, alloc.warehouse)].append(alloc)
        for key in sorted(back.keys() | taken.keys()):
            if key in back:
                self._add(*key, *back[key])
            if not all(self._reserve(alloc) for alloc in taken.get(key, ())):
                return False
        for status, holds in ((HELD, held), (CONSUMED, sold)):
            if holds:
                self._mark([order_id], status, MOVED)
        self._hold(order_id, plan, at)
        return True

    def lock_held_rows(self, order_ids: Sequence[int]) -> None:
        """Lock the inventory rows these orders' live holds sit on, in (sku, warehouse) order,
        until commit (PostgreSQL; a SQLite write transaction is exclusive already): a batch
        that releases the stock of several steps in several passes, each sorted on its own,
        takes them all in the lock order before its first pass."""
        if self.sql.sqlite or not order_ids:
            return
        where, params = in_list("order_id", sorted(set(order_ids)))
        self.sql.all("SELECT 1 FROM inventory WHERE (sku, warehouse) IN (SELECT sku, warehouse "
                     f"FROM stock_holds WHERE {where} AND status = 'held') "
                     "ORDER BY sku, warehouse FOR UPDATE", params)

    def released_plan(self, order_id: int) -> list[Allocation]:
        """The allocation an order held before it was released (to take it again)."""
        return [Allocation(int(r[0]), r[1], r[2], int(r[3])) for r in self.sql.all(
            "SELECT line_no, sku, warehouse, quantity FROM stock_holds WHERE order_id = :o "
            "AND status = 'released' ORDER BY id", {"o": order_id})]

    def holds_of(self, order_ids: Iterable[int], status: str | None = HELD) -> list[Hold]:
        ids = list(order_ids)
        if len(ids) == 1:  # the hot path: one order
            where, params = "order_id = :id", {"id": ids[0]}
        else:
            where, params = in_list("order_id", ids)
        if status is not None:
            where, params = where + " AND status = :status", {**params, "status": status}
        return [Hold(*r) for r in self.sql.all(
            f"SELECT order_id, sku, warehouse, quantity, status FROM stock_holds WHERE {where} "
            "ORDER BY id", params)]

    def release(self, order_ids: list[int]) -> int:
        """Give back the live holds of these orders; returns the units released."""
        return self._settle(order_ids, RELEASED, on_hand_delta=0)

    def consume(self, order_ids: list[int]) -> int:
        """Turn live holds into deductions (the goods are sold): on_hand and reserved both drop."""
        return self._settle(order_ids, CONSUMED, on_hand_delta=-1)

    def restock(self, order_ids: list[int]) -> int:
        """Put consumed stock back on hand (an order cancelled after payment, before shipping)."""
        holds = self.holds_of(order_ids, CONSUMED)
        self._adjust(holds, on_hand_sign=1, reserved_sign=0)
        self._mark(order_ids, CONSUMED, RELEASED)
        return sum(h.quantity for h in holds)

    def reconcile(self, fix: bool = False) -> list[Drift]:
        """Recompute `reserved` from live holds; report (and optionally repair) any drift."""
        live = dict(((r.sku, r.warehouse), int(r.q)) for r in self.connection.execute(
            select(HOLDS.c.sku, HOLDS.c.warehouse, func.sum(HOLDS.c.quantity).label("q"))
            .where(HOLDS.c.status == HELD).group_by(HOLDS.c.sku, HOLDS.c.warehouse)))
        drifts = [Drift(r.sku, r.warehouse, r.reserved, live.get((r.sku, r.warehouse), 0))
                  for r in self.connection.execute(select(INVENTORY))
                  if r.reserved != live.get((r.sku, r.warehouse), 0)]
        for d in drifts if fix else []:
            self.connection.execute(update(INVENTORY).where(
                INVENTORY.c.sku == d.sku, INVENTORY.c.warehouse == d.warehouse)
                .values(reserved=d.from_holds))
        return drifts

    def levels(self) -> list:
        return list(self.connection.execute(
            select(INVENTORY).order_by(INVENTORY.c.sku, INVENTORY.c.warehouse)))

    def _settle(self, order_ids: list[int], to_status: str, on_hand_delta: int) -> int:
        holds = self.holds_of(order_ids, HELD)
        self._adjust(holds, on_hand_sign=on_hand_delta, reserved_sign=-1)
        if holds:
            self._mark(order_ids, HELD, to_status)
        return sum(h.quantity for h in holds)

    def _adjust(self, holds: list[Hold], on_hand_sign: int, reserved_sign: int) -> None:
        totals: dict[tuple[str, str], int] = defaultdict(int)
        for hold in holds:
            totals[(hold.sku, hold.warehouse)] += hold.quantity
        self.sql.later(ADJUST, [{"sku": sku, "wh": wh, "d_on_hand": on_hand_sign * q,
                                 "d_reserved": reserved_sign * q}
                                for (sku, wh), q in sorted(totals.items())])

    def _add(self, sku: str, wh: str, on_hand: int, reserved: int) -> None:
        """Move one row's on_hand and reserved by these amounts (deferred: see sql.later)."""
        self.sql.later(ADJUST, [{"sku": sku, "wh": wh, "d_on_hand": on_hand,
                                 "d_reserved": reserved}])

    def _reserve(self, alloc: Allocation) -> bool:
        """Reserve one allocation if its row has the units free (one conditional UPDATE)."""
        return self.sql.run(RESERVE, {"q": alloc.quantity, "sku": alloc.sku,
                                      "wh": alloc.warehouse}).rowcount == 1

    def _hold(self, order_id: int, plan: list[Allocation], at: datetime) -> None:
        add_holds(self.sql, [{"order_id": order_id, "line_no": a.line_no, "sku": a.sku,
                              "warehouse": a.warehouse, "quantity": a.quantity,
                              "status": HELD, "created_at": at} for a in plan])

    def _mark(self, order_ids: list[int], from_status: str, to_status: str) -> None:
        where, params = in_list("order_id", order_ids)
        self.sql.later(f"UPDATE stock_holds SET status = :to WHERE {where} AND status = :from_",
                       [{**params, "to": to_status, "from_": from_status}])


@dataclass(frozen=True, slots=True)
class Hold:
    order_id: int
    sku: str
    warehouse: str
    quantity: int
    status: str


