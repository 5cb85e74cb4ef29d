"""Stock movements that are not sales: adjustments, short picks, refills from a neighbour,
transfers between warehouses, returns. Every one keeps this ledger balanced:

    received + Σ adjustments.delta = Σ on_hand + Σ in-transit transfers + Σ holds shipped

where a hold is "shipped" while it is `consumed` (sold) or `lost` (sold, parcel lost), and
`reserved` always equals the live (`held`) holds, so `StockStore.reconcile` stays clean.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from sqlalchemy import Connection

from integrations.db.rows import Insert
from integrations.db.schema_fulfil import (
    BinLocationRow,
    SkuFlagRow,
    StockAdjustmentRow,
    TransferRow,
)
from integrations.db.sql import Sql, in_list
from integrations.db.stock import CONSUMED, HOLD
from statemachine.errors import InvalidInput
from statemachine.fulfilment import Load

SHIPPED_STATUSES = ("consumed", "lost")
TRANSFER_COLS = ("id, sku, from_warehouse, to_warehouse, quantity, status, reason, sent_by, "
                 "sent_at, received_by, received_at, order_id, line_no")
TRANSFER_ORDER = TRANSFER_COLS.split(", ").index("order_id")
FLAGS, BINS, ADJUSTMENTS, TRANSFERS = (SkuFlagRow.__table__, BinLocationRow.__table__,
                                       StockAdjustmentRow.__table__, TransferRow.__table__)
# What each INSERT writes (a column added to the table and not written is refused by name)
# upserts: a DELETE then INSERT let two people setting the same flag or bin both insert,
# and PostgreSQL refused the second with a raw UniqueViolation
FLAG = Insert(FLAGS, but=(), key=("sku", "flag"), update=("note",))
BIN = Insert(BINS, but=(), key=("sku", "warehouse"), update=("location",))
ADJUSTMENT = Insert(ADJUSTMENTS)
TRANSFER = Insert(TRANSFERS, but=("id", "received_by", "received_at"))  # those on arrival


@dataclass(frozen=True, slots=True)
class HoldRow:
    id: int
    line_no: int
    sku: str
    warehouse: str
    quantity: int


class FulfilStore:
    def __init__(self, connection: Connection | None, sql: Sql | None = None):
        self.sql = sql or Sql(connection)  # type: ignore[arg-type]

    @classmethod
    def on(cls, sql: Sql) -> FulfilStore:
        """The store on a unit of work's existing `Sql` (the writer's)."""
        return cls(None, sql)

    # --- sku facts --------------------------------------------------------------------------

    def flags_of(self, skus: Iterable[str]) -> dict[str, list[str]]:
        wanted = sorted(set(skus))
        if not wanted:  # `IN ()` is an error on PostgreSQL (and a wasted statement anywhere)
            return {}
        where, params = in_list("sku", wanted)
        found: dict[str, list[str]] = {}
        for sku, flag in self.sql.all(f"SELECT sku, flag FROM sku_flags WHERE {where}", params):
            found.setdefault(sku, []).append(flag)
        return found

    def set_flag(self, sku: str, flag: str, note: str | None) -> None:
        FLAG.write_row(self.sql, {"sku": sku, "flag": flag, "note": note})

    def set_location(self, sku: str, warehouse: str, location: str) -> None:
        BIN.write_row(self.sql, {"sku": sku, "warehouse": warehouse, "location": location})

    def locations(self, warehouse: str) -> dict[str, str]:
        return dict(self.sql.all("SELECT sku, location FROM bin_locations "
                                 "WHERE warehouse = :wh", {"wh": warehouse}))

    # --- adjustments --------------------------------------------------------------------------

    def adjust_on_hand(self, sku: str, warehouse: str, delta: int) -> None:
        """Change on_hand, never below what live holds reserve (InvalidInput names delta)."""
        done = self.sql.run("UPDATE inventory SET on_hand = on_hand + :d WHERE sku = :sku AND "
                            "warehouse = :wh AND on_hand + :d >= reserved",
                            {"d": delta, "sku": sku, "wh": warehouse}).rowcount
        if done != 1:
            row = self.sql.one("SELECT on_hand, reserved FROM inventory WHERE sku = :sku AND "
                               "warehouse = :wh", {"sku": sku, "wh": warehouse})
            if row is None:
                raise InvalidInput({"sku": f"no inventory for {sku} in {warehouse}"})
            raise InvalidInput({"delta": f"{delta} would leave {row[0] + delta} on hand, below "
                                         f"the {row[1]} reserved by live holds"})

    def record_adjustment(self, sku: str, warehouse: str, delta: int, kind: str, reason: str,
                          actor: str, at: datetime, order_id: int | None = None) -> int:
        return ADJUSTMENT.write_id(self.sql, {
            "sku": sku, "warehouse": warehouse, "delta": delta, "kind": kind, "reason": reason,
            "actor": actor, "order_id": order_id, "at": at})

    def adjustments(self, sku: str | None = None) -> list[tuple]:
        where = "WHERE sku = :sku " if sku else ""
        return self.sql.all("SELECT id, sku, warehouse, delta, kind, reason, actor, order_id, at "
                            f"FROM stock_adjustments {where}ORDER BY id", {"sku": sku})

    # --- holds of paid orders -----------------------------------------------------------------

    def holds(self, order_id: int, status: str = "consumed", warehouse: str | None = None,
              sku: str | None = None) -> list[HoldRow]:
        sql = ("SELECT id, line_no, sku, warehouse, quantity FROM stock_holds WHERE "
               "order_id = :o AND status = :status")
        params = {"o": order_id, "status": status}
        for column, value in (("warehouse", warehouse), ("sku", sku)):
            if value is not None:
                sql, params = sql + f" AND {column} = :{column}", {**params, column: value}
        return [HoldRow(*r) for r in self.sql.all(sql + " ORDER BY id", params)]

    def parcel_holds(self, order_id: int, shipment_id: int, warehouse: str,
                     return_label: bool = False) -> list[HoldRow]:
        """The sold units a parcel carries: those tagged with it, else (a parcel `ship` made)
        the order's sold units in its warehouse that no other parcel carries. A return label's
        parcel carries only its tagged units: the buyer keeps the rest."""
        untagged = "" if return_label else (
            " OR shipment_id IS NULL AND warehouse = :w AND NOT EXISTS (SELECT 1 FROM "
            "stock_holds t WHERE t.order_id = :o AND t.shipment_id = :s)")
        return [HoldRow(*r) for r in self.sql.all(
            "SELECT id, line_no, sku, warehouse, quantity FROM stock_holds WHERE order_id = :o "
            f"AND status = 'consumed' AND (shipment_id = :s{untagged}) ORDER BY id",
            {"o": order_id, "s": shipment_id, "w": warehouse})]

    def delivered_holds(self, order_id: int) -> set[int]:
        """The order's sold units the buyer has: those of its delivered parcels (a parcel's
        goods as `parcel_holds` reads them; a return label's parcel carries goods back, not
        to the buyer)."""
        return {r[0] for r in self.sql.all(
            "SELECT h.id FROM stock_holds h WHERE h.order_id = :o AND h.status = 'consumed' "
            "AND EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = :o AND s.state = "
            "'delivered' AND s.purpose <> 'return' AND (h.shipment_id = s.id OR "
            "h.shipment_id IS NULL AND h.warehouse = s.warehouse AND NOT EXISTS (SELECT 1 FROM "
            "stock_holds t WHERE t.order_id = :o AND t.shipment_id = s.id)))", {"o": order_id})}

    def case_return_holds(self, case_id: int) -> set[int] | None:
        """The sold units the case's return parcels carry (a lost one's are `lost`, not
        sold); None when they were given none (labels from before parcels were loaded)."""
        rows = self.sql.all("SELECT h.id, h.status FROM stock_holds h JOIN shipments s ON "
                            "s.id = h.shipment_id WHERE s.case_id = :c AND s.purpose = "
                            "'return'", {"c": case_id})
        return {r[0] for r in rows if r[1] == CONSUMED} if rows else None

    def bounced_return_holds(self, case_id: int) -> list[HoldRow]:
        """The sold units the case's return parcels sent back to the buyer carry (the carrier
        returned them: the goods are with the buyer again), in hold order."""
        return [HoldRow(*r) for r in self.sql.all(
            "SELECT h.id, h.line_no, h.sku, h.warehouse, h.quantity FROM stock_holds h JOIN "
            "shipments s ON s.id = h.shipment_id WHERE s.case_id = :c AND s.purpose = 'return' "
            "AND s.state = 'returned_to_sender' AND h.status = 'consumed' ORDER BY h.id",
            {"c": case_id})]

    def case_claims_refunded(self, case_id: int) -> int:
        """What the claims on the case's own return parcels refunded to the buyer (a lost
        return parcel's goods), minor units."""
        return int(self.sql.one(
            "SELECT COALESCE(SUM(c.compensated), 0) FROM parcel_claims c JOIN shipments s ON "
            "s.id = c.shipment_id WHERE s.case_id = :c AND s.purpose = 'return' AND "
            "c.compensation = 'refund'", {"c": case_id})[0])

    def case_claimed_units(self, case_id: int) -> dict[int, int]:
        """Per line, the units of the case's return parcels lost and refunded by their claim."""
        return dict(self.sql.all(
            "SELECT h.line_no, SUM(h.quantity) FROM stock_holds h JOIN shipments s ON s.id = "
            "h.shipment_id JOIN parcel_claims c ON c.shipment_id = s.id WHERE s.case_id = :c "
            "AND s.purpose = 'return' AND c.compensation = 'refund' AND h.status = 'lost' "
            "GROUP BY h.line_no", {"c": case_id}))

    def untagged_sold(self, order_ids: Sequence[int]) -> dict[int, list[HoldRow]]:
        """Per order, its sold units no parcel is tagged with (orders with none left out); one
        read for a batch."""
        where, params = in_list("order_id", sorted(set(order_ids)))
        found: dict[int, list[HoldRow]] = {}
        for row in self.sql.all("SELECT order_id, id, line_no, sku, warehouse, quantity FROM "
                                f"stock_holds WHERE {where} AND status = 'consumed' AND "
                                "shipment_id IS NULL ORDER BY id", params):
            found.setdefault(row[0], []).append(HoldRow(*row[1:]))
        return found

    def load_parcels(self, loads: Sequence[Load]) -> None:
        """Tag sold units with the parcel that carries them (`statemachine.fulfilment.
        parcel_loads`): the one writer of `stock_holds.shipment_id`. A row whose units travel
        in several parcels is split, its last load keeping the row."""
        for hold, pieces in groupby(loads, key=lambda load: load.hold):
            *split_off, last = pieces
            for load in split_off:
                self._tag(self._split_off(hold, load.quantity, CONSUMED), load.parcel)
            self._tag(hold, last.parcel)

    def _tag(self, hold_id: int, parcel: int) -> None:
        self.sql.run("UPDATE stock_holds SET shipment_id = :s WHERE id = :id",
                     {"s": parcel, "id": hold_id})

    def split_hold(self, hold: HoldRow, quantity: int, status: str) -> int:
        """Move `quantity` units of a hold into a new row with `status` (the rest stays);
        returns the id of the row that has them."""
        if quantity == hold.quantity:
            self.sql.run("UPDATE stock_holds SET status = :s WHERE id = :id",
                         {"s": status, "id": hold.id})
            return hold.id
        return self._split_off(hold.id, quantity, status)

    def _split_off(self, hold_id: int, quantity: int, status: str) -> int:
        """`quantity` of a row's units (fewer than it has) into a copy of it with `status`."""
        self.sql.run("UPDATE stock_holds SET quantity = quantity - :q WHERE id = :id",
                     {"q": quantity, "id": hold_id})
        return self.sql.insert_id(
            "INSERT INTO stock_holds (order_id, line_no, sku, warehouse, quantity, status, "
            "created_at, shipment_id) SELECT order_id, line_no, sku, warehouse, :q, :s, "
            "created_at, shipment_id FROM stock_holds WHERE id = :id",
            {"q": quantity, "s": status, "id": hold_id})

    def consume_from(self, order_id: int, line_no: int, sku: str, warehouse: str,
                     quantity: int, at: datetime) -> HoldRow | None:
        """Take free stock straight into a sold hold of a paid order; None if not free."""
        taken = self.sql.run("UPDATE inventory SET on_hand = on_hand - :q WHERE sku = :sku AND "
                             "warehouse = :wh AND on_hand - reserved >= :q",
                             {"q": quantity, "sku": sku, "wh": warehouse}).rowcount
        if taken != 1:
            return None
        number = HOLD.write_id(self.sql, {"order_id": order_id, "line_no": line_no, "sku": sku,
                                          "warehouse": warehouse, "quantity": quantity,
                                          "status": CONSUMED, "created_at": at})
        return HoldRow(number, line_no, sku, warehouse, quantity)

    # --- transfers ----------------------------------------------------------------------------

    def send_transfer(self, sku: str, source: str, dest: str, quantity: int, reason: str,
                      actor: str, at: datetime, order_id: int | None = None,
                      line_no: int | None = None) -> int:
        taken = self.sql.run("UPDATE inventory SET on_hand = on_hand - :q WHERE sku = :sku AND "
                             "warehouse = :wh AND on_hand - reserved >= :q",
                             {"q": quantity, "sku": sku, "wh": source}).rowcount
        if taken != 1:
            raise InvalidInput({"quantity": f"{source} has fewer than {quantity} free {sku}"})
        return TRANSFER.write_id(self.sql, {
            "sku": sku, "from_warehouse": source, "to_warehouse": dest, "quantity": quantity,
            "status": "in_transit", "reason": reason, "sent_by": actor, "sent_at": at,
            "order_id": order_id, "line_no": line_no})

    def transfer(self, transfer_id: int) -> tuple | None:
        return self.sql.one(f"SELECT {TRANSFER_COLS} FROM stock_transfers WHERE id = :id",
                            {"id": transfer_id})

    def inbound_for(self, order_id: int) -> list[tuple]:
        """Transfers still in transit to refill this order."""
        return self.inbound_for_orders([order_id]).get(order_id, [])

    def inbound_for_orders(self, order_ids: Iterable[int]) -> dict[int, list[tuple]]:
        """Per order, the transfers still in transit to refill it (orders with none left out):
        one query for a batch of orders."""
        wanted = sorted(set(order_ids))
        if not wanted:
            return {}
        where, params = in_list("order_id", wanted)
        found: dict[int, list[tuple]] = {}
        for row in self.sql.all(f"SELECT {TRANSFER_COLS} FROM stock_transfers WHERE {where} "
                                "AND status = 'in_transit' ORDER BY id", params):
            found.setdefault(row[TRANSFER_ORDER], []).append(row)
        return found

    def mark_received(self, transfer_id: int, actor: str, at: datetime) -> bool:
        return self.sql.run("UPDATE stock_transfers SET status = 'received', received_by = :a, "
                            "received_at = :at WHERE id = :id AND status = 'in_transit'",
                            {"a": actor, "at": at, "id": transfer_id}).rowcount == 1

    def transfers(self, status: str | None = None) -> list[tuple]:
        where = "WHERE status = :s " if status else ""
        return self.sql.all(f"SELECT {TRANSFER_COLS} FROM stock_transfers {where}ORDER BY id",
                            {"s": status})

    # --- the ledger ---------------------------------------------------------------------------

    def totals(self) -> dict[str, int]:
        """The terms of the stock ledger, summed over every sku and warehouse."""
        one = self.sql.one
        return {"on_hand": int(one("SELECT COALESCE(SUM(on_hand), 0) FROM inventory")[0]),
                "in_transit": int(one("SELECT COALESCE(SUM(quantity), 0) FROM stock_transfers "
                                      "WHERE status = 'in_transit'")[0]),
                "shipped": int(one("SELECT COALESCE(SUM(quantity), 0) FROM stock_holds WHERE "
                                   "status IN ('consumed', 'lost')")[0]),
                "adjusted": int(one("SELECT COALESCE(SUM(delta), 0) FROM stock_adjustments")[0])}


CLAIM_COLS = ("id, shipment_id, order_id, kind, state, version, goods_value, claimed, "
              "recovered, compensation, compensated, details, created_at")


def claim_open_for(sql: Sql, shipment_id: int) -> bool:
    """Whether the parcel has a claim already (one claim per parcel)."""
    return sql.one("SELECT id FROM parcel_claims WHERE shipment_id = :s",
                   {"s": shipment_id}) is not None


def claim_rows(sql: Sql, state: str | None = None, order_id: int | None = None,
               claim_id: int | None = None) -> list[tuple]:
    """Claims (columns `CLAIM_COLS`) matching every filter given, by id."""
    query, params = f"SELECT {CLAIM_COLS} FROM parcel_claims WHERE 1 = 1", {}
    for column, value in (("state", state), ("order_id", order_id), ("id", claim_id)):
        if value is not None:
            query, params = query + f" AND {column} = :{column}", {**params, column: value}
    return sql.all(query + " ORDER BY id", params)

def settled_parcels(sql: Sql, order_id: int) -> set[int]:
    """Parcels whose buyer was compensated (lost / returned): no longer awaited."""
    return {r[0] for r in sql.all("SELECT shipment_id FROM parcel_claims WHERE order_id = :o "
                                  "AND kind IN ('lost', 'returned')", {"o": order_id})}
