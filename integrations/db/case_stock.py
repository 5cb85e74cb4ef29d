"""The after-sales stock intents, on a case's lines (called by the writer, in its lock order).

Every intent touches its inventory rows in (sku, warehouse) order, the global lock order
(docs/design.md, Concurrency), whatever order the case's lines are in: two cases touching
(tee, cap) and (cap, tee) one line after the other waited on each other in a circle
(PostgreSQL aborted one of them: 19 deadlocks in 50 trials of two exchanges closed at once,
races/test_case_stock_races.py).

Units move in `stock_holds` rows of the case's order and line, so the stock ledger stays
balanced (received + adjustments = on hand + in transit + shipped) and `reserved` still equals
the live holds:

- hold_replacement: reserve the planned units (a conditional update, like an order's hold);
- ship_replacement: held units of the line become sold (on hand and reserved drop); what was
  not held is taken from free stock as planned;
- release_replacement: held units of the line go back (reserved drops);
- load_return: the return parcels carry the units the case takes back (tagged with them), or,
  sent again after a return bounced back to the buyer, the units of the bounced parcels;
- take_back: sold units of the line come back — `returned` and on the shelf again, or
  `written_off` with an adjustment row naming who and why — those its return parcels carry
  (none loaded, as before the tags: from delivered parcels first).
"""

from __future__ import annotations

from datetime import datetime

from integrations.db.fulfil_store import FulfilStore, HoldRow
from integrations.db.sql import Sql
from integrations.db.stock import CONSUMED, HELD, add_holds
from statemachine.aftersales import AfterSalesCase
from statemachine.errors import InsufficientStock
from statemachine.fulfilment import parcel_loads
from statemachine.lifecycle import Fired, StockIntent

RESERVE = ("UPDATE inventory SET reserved = reserved + :q WHERE sku = :sku AND warehouse = :wh "
           "AND on_hand - reserved >= :q")
ADJUST = ("UPDATE inventory SET on_hand = on_hand + :on_hand, reserved = reserved + :reserved "
          "WHERE sku = :sku AND warehouse = :wh")


class CaseStock:
    def __init__(self, sql: Sql):
        self.sql, self.holds = sql, FulfilStore.on(sql)

    def apply(self, intent: StockIntent, case: AfterSalesCase, fired: Fired) -> None:
        if intent is StockIntent.HOLD_REPLACEMENT:
            self._hold(case, fired.at)
        elif intent is StockIntent.SHIP_REPLACEMENT:
            self._ship(case, fired)
        elif intent is StockIntent.RELEASE_REPLACEMENT:
            self._settle(self._held_units(case), "released", on_hand=0)
        elif intent is StockIntent.LOAD_RETURN:
            self._load_return(case, fired)
        elif intent is StockIntent.TAKE_BACK and case.take_back:
            self._take_back(case, fired)

    def _hold(self, case: AfterSalesCase, at: datetime) -> None:
        for a in sorted(case.replacement, key=lambda a: (a.sku, a.warehouse)):
            taken = self.sql.run(RESERVE, {"q": a.quantity, "sku": a.sku,
                                           "wh": a.warehouse}).rowcount
            if taken != 1:  # a concurrent order took it since the plan was made
                raise InsufficientStock(a.sku, a.quantity, 0)
            add_holds(self.sql, [{"order_id": case.order_id, "line_no": a.line_no,
                                  "sku": a.sku, "warehouse": a.warehouse,
                                  "quantity": a.quantity, "status": HELD, "created_at": at}])

    def _ship(self, case: AfterSalesCase, fired: Fired) -> None:
        """The replacement's units become sold and travel in the parcels the step created
        (tagged with them: the replacement is not counted into another parcel of the order
        leaving from the same warehouse, nor that parcel's goods into the replacement's).
        Held units are sold, what was not held is taken from free stock as planned: both in
        one pass over their inventory rows in lock order; the parcels get them listed per
        line, the fresh units then the held ones."""
        held = self._held_units(case)
        for line in case.lines:
            moved = sum(take for hold, take in held if hold.line_no == line.line_no)
            fresh = [a for a in case.replacement if a.line_no == line.line_no]
            if moved + sum(a.quantity for a in fresh) < line.quantity:
                raise InsufficientStock(fresh[0].sku if fresh else f"line {line.line_no}",
                                        line.quantity - moved, 0)
        touches = [(h.sku, h.warehouse, n) for n, (h, _) in enumerate(held)] + [
            (a.sku, a.warehouse, len(held) + n) for n, a in enumerate(case.replacement)]
        sold: dict[int, HoldRow] = {}
        for _, _, n in sorted(touches):
            if n < len(held):
                sold[n] = self._settle_one(*held[n], "consumed", on_hand=-1)
                continue
            a = case.replacement[n - len(held)]
            taken = self.holds.consume_from(case.order_id, a.line_no, a.sku, a.warehouse,
                                            a.quantity, fired.at)
            if taken is None:
                raise InsufficientStock(a.sku, a.quantity, 0)
            sold[n] = taken
        in_order = [sold[n] for line in case.lines for n in (
            [len(held) + n for n, a in enumerate(case.replacement) if a.line_no == line.line_no]
            + [n for n, (h, _) in enumerate(held) if h.line_no == line.line_no])]
        self.holds.load_parcels(parcel_loads(
            [(h.id, h.line_no, h.warehouse, h.quantity) for h in in_order],
            [(p.id, p.warehouse) for p in fired.spawned]))

    def _load_return(self, case: AfterSalesCase, fired: Fired) -> None:
        """The return parcels the step created carry exactly the units the case takes back
        (`coming_back`), each parcel those of its warehouse: its loss settles them, not
        every sold unit of its warehouse."""
        units = [(self.holds.split_hold(hold, take, CONSUMED), hold.line_no, hold.warehouse,
                  take) for hold, take in self.to_send_back(case)]
        self.holds.load_parcels(parcel_loads(units, [(p.id, p.warehouse)
                                                     for p in fired.spawned]))

    def to_send_back(self, case: AfterSalesCase) -> list[tuple[HoldRow, int]]:
        """The units a case's return labels carry: those of its return parcels the carrier
        sent back to the buyer, when there are (sent again with a new label: the others are
        back with us or still on their way), else the units it takes back (`coming_back`)."""
        bounced = self.holds.bounced_return_holds(case.id)
        return [(hold, hold.quantity) for hold in bounced] if bounced else self.coming_back(case)

    def coming_back(self, case: AfterSalesCase, returning: set[int] | None = None
                    ) -> list[tuple[HoldRow, int]]:
        """Per case line, the sold units that come back and how many of each row. A case
        whose return parcels were loaded (`returning`): exactly their units still sold (a lost
        parcel's are not: they never arrive). Else the parcels the buyer has: delivered
        parcels' units first, then (more asked back than was delivered: the warehouse has
        them in hand, so a parcel came without its scan) those of parcels still on their way;
        each in hold order."""
        delivered = self.holds.delivered_holds(case.order_id)
        chosen: list[tuple[HoldRow, int]] = []
        for line in case.lines:
            left = line.quantity
            for hold in sorted(self._of_line(case, line.line_no, CONSUMED),
                               key=lambda h: h.id not in delivered):
                if left == 0:
                    break
                if returning is not None and hold.id not in returning:
                    continue
                chosen.append((hold, min(left, hold.quantity)))
                left -= chosen[-1][1]
        return chosen

    def _take_back(self, case: AfterSalesCase, fired: Fired) -> None:
        """The case's units come back (`coming_back`): a parcel's later loss or return then
        settles only what it still carries."""
        restock = case.take_back == "restock"
        reason = fired.payload.get("notes") or f"returned goods inspected: {case.inspection}"
        back = self.coming_back(case, self.holds.case_return_holds(case.id))
        for hold, take in in_lock_order(back):
            self.holds.split_hold(hold, take, "returned" if restock else "written_off")
            if restock:
                self.sql.run(ADJUST, {"on_hand": take, "reserved": 0, "sku": hold.sku,
                                      "wh": hold.warehouse})
            else:
                self.holds.record_adjustment(hold.sku, hold.warehouse, -take,
                                             "return_write_off",
                                             f"{case.public_id}: {reason}"[:500],
                                             fired.actor, fired.at, case.order_id)

    def _held_units(self, case: AfterSalesCase) -> list[tuple[HoldRow, int]]:
        """Per case line (in line order), the held units to settle and how many of each row:
        up to the line's quantity, in hold order."""
        held = self.holds.holds(case.order_id, "held")
        chosen: list[tuple[HoldRow, int]] = []
        for line in case.lines:
            left = line.quantity
            for hold in (h for h in held if h.line_no == line.line_no):
                if left <= 0:
                    break
                chosen.append((hold, min(left, hold.quantity)))
                left -= chosen[-1][1]
        return chosen

    def _settle(self, units: list[tuple[HoldRow, int]], status: str, on_hand: int) -> None:
        """Move these held units to `status`, their inventory rows in lock order."""
        for hold, take in in_lock_order(units):
            self._settle_one(hold, take, status, on_hand)

    def _settle_one(self, hold: HoldRow, take: int, status: str, on_hand: int) -> HoldRow:
        """Move `take` held units of one row to `status` (reserved drops, and on hand by
        `on_hand` per unit); returns the row that has them."""
        number = self.holds.split_hold(hold, take, status)
        self.sql.run(ADJUST, {"on_hand": on_hand * take, "reserved": -take,
                              "sku": hold.sku, "wh": hold.warehouse})
        return HoldRow(number, hold.line_no, hold.sku, hold.warehouse, take)

    def _of_line(self, case: AfterSalesCase, line_no: int, status: str) -> list[HoldRow]:
        return [h for h in self.holds.holds(case.order_id, status) if h.line_no == line_no]


def in_lock_order(units: list[tuple[HoldRow, int]]) -> list[tuple[HoldRow, int]]:
    """Units by their inventory row, (sku, warehouse): the global lock order (stable: a
    row's units keep their order)."""
    return sorted(units, key=lambda unit: (unit[0].sku, unit[0].warehouse))


CASE_INTENTS = frozenset({StockIntent.HOLD_REPLACEMENT, StockIntent.SHIP_REPLACEMENT,
                          StockIntent.RELEASE_REPLACEMENT, StockIntent.LOAD_RETURN,
                          StockIntent.TAKE_BACK})
