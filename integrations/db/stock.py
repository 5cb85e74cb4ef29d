"""Inventory and stock holds. A hold is one atomic conditional UPDATE: it can never oversell."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, insert, select, update

from integrations.db.schema import InventoryRow, StockHoldRow
from statemachine.stock import Allocation, Availability

INVENTORY, HOLDS = InventoryRow.__table__, StockHoldRow.__table__
HELD, CONSUMED, RELEASED = "held", "consumed", "released"


@dataclass(frozen=True, slots=True)
class Drift:
    sku: str
    warehouse: str
    recorded: int
    from_holds: int


class StockStore:
    def __init__(self, connection: Connection):
        self.connection = connection

    def receive(self, sku: str, warehouse: str, quantity: int) -> int:
        """Add stock on hand (creating the sku × warehouse row); returns the new on_hand."""
        updated = self.connection.execute(
            update(INVENTORY).where(INVENTORY.c.sku == sku, INVENTORY.c.warehouse == warehouse)
            .values(on_hand=INVENTORY.c.on_hand + quantity).returning(INVENTORY.c.on_hand)
        ).first()
        if updated is not None:
            return int(updated.on_hand)
        self.connection.execute(insert(INVENTORY).values(
            sku=sku, warehouse=warehouse, on_hand=quantity, reserved=0))
        return quantity

    def availability(self, skus: Iterable[str]) -> Availability:
        rows = self.connection.execute(
            select(INVENTORY.c.sku, INVENTORY.c.warehouse,
                   (INVENTORY.c.on_hand - INVENTORY.c.reserved).label("free"))
            .where(INVENTORY.c.sku.in_(set(skus))))
        return {(r.sku, r.warehouse): int(r.free) for r in rows}

    def known_skus(self, skus: Iterable[str]) -> set[str]:
        rows = self.connection.execute(select(INVENTORY.c.sku).distinct()
                                       .where(INVENTORY.c.sku.in_(set(skus))))
        return {r.sku for r in rows}

    def try_hold(self, order_id: int, plan: list[Allocation], at: datetime) -> bool:
        """Reserve every allocation or none: False means a concurrent order took the stock."""
        for alloc in plan:
            taken = self.connection.execute(
                update(INVENTORY)
                .where(INVENTORY.c.sku == alloc.sku, INVENTORY.c.warehouse == alloc.warehouse,
                       INVENTORY.c.on_hand - INVENTORY.c.reserved >= alloc.quantity)
                .values(reserved=INVENTORY.c.reserved + alloc.quantity)).rowcount
            if taken != 1:
                return False  # the caller rolls back the whole unit of work
        self.connection.execute(insert(HOLDS), [
            {"order_id": order_id, "line_no": a.line_no, "sku": a.sku,
             "warehouse": a.warehouse, "quantity": a.quantity, "status": HELD,
             "created_at": at} for a in plan])
        return True

    def holds_of(self, order_ids: Iterable[int], status: str | None = HELD) -> list:
        query = select(HOLDS).where(HOLDS.c.order_id.in_(list(order_ids)))
        if status is not None:
            query = query.where(HOLDS.c.status == status)
        return list(self.connection.execute(query.order_by(HOLDS.c.id)))

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
        self._mark(order_ids, HELD, to_status)
        return sum(h.quantity for h in holds)

    def _adjust(self, holds: list, on_hand_sign: int, reserved_sign: int) -> None:
        totals: dict[tuple[str, str], int] = defaultdict(int)
        for hold in holds:
            totals[(hold.sku, hold.warehouse)] += hold.quantity
        if not totals:
            return
        self.connection.execute(
            update(INVENTORY)
            .where(INVENTORY.c.sku == bindparam("k_sku"),
                   INVENTORY.c.warehouse == bindparam("k_wh"))
            .values(on_hand=INVENTORY.c.on_hand + bindparam("d_on_hand"),
                    reserved=INVENTORY.c.reserved + bindparam("d_reserved")),
            [{"k_sku": sku, "k_wh": wh, "d_on_hand": on_hand_sign * q,
              "d_reserved": reserved_sign * q} for (sku, wh), q in sorted(totals.items())])

    def _mark(self, order_ids: list[int], from_status: str, to_status: str) -> None:
        self.connection.execute(update(HOLDS).where(
            HOLDS.c.order_id.in_(order_ids), HOLDS.c.status == from_status)
            .values(status=to_status))
