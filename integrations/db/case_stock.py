"""The after-sales stock intents, on a case's lines (called by the writer, in its lock order).

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
            for line in case.lines:
                self._settle(self._of_line(case, line.line_no, "held"), line.quantity,
                             "released", on_hand=0)
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
        leaving from the same warehouse, nor that parcel's goods into the replacement's)."""
        sold: list[HoldRow] = []
        for line in case.lines:
            held = self._settle(self._of_line(case, line.line_no, "held"), line.quantity,
                                "consumed", on_hand=-1)
            fresh = [a for a in case.replacement if a.line_no == line.line_no]
            moved = sum(h.quantity for h in held)
            if moved + sum(a.quantity for a in fresh) < line.quantity:
                raise InsufficientStock(fresh[0].sku if fresh else f"line {line.line_no}",
                                        line.quantity - moved, 0)
            for a in fresh:
                taken = self.holds.consume_from(case.order_id, a.line_no, a.sku, a.warehouse,
                                                a.quantity, fired.at)
                if taken is None:
                    raise InsufficientStock(a.sku, a.quantity, 0)
                sold.append(taken)
            sold += held
        self.holds.load_parcels(parcel_loads(
            [(h.id, h.line_no, h.warehouse, h.quantity) for h in sold],
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
        for hold, take in self.coming_back(case, self.holds.case_return_holds(case.id)):
            self.holds.split_hold(hold, take, "returned" if restock else "written_off")
            if restock:
                self.sql.run(ADJUST, {"on_hand": take, "reserved": 0, "sku": hold.sku,
                                      "wh": hold.warehouse})
            else:
                self.holds.record_adjustment(hold.sku, hold.warehouse, -take,
                                             "return_write_off",
                                             f"{case.public_id}: {reason}"[:500],
                                             fired.actor, fired.at, case.order_id)

    def _settle(self, holds: list[HoldRow], wanted: int, status: str,
                on_hand: int) -> list[HoldRow]:
        """Move up to `wanted` held units to `status`; returns the rows that have them."""
        moved: list[HoldRow] = []
        for hold in holds:
            take = min(wanted - sum(h.quantity for h in moved), hold.quantity)
            if take <= 0:
                break
            number = self.holds.split_hold(hold, take, status)
            self.sql.run(ADJUST, {"on_hand": on_hand * take, "reserved": -take,
                                  "sku": hold.sku, "wh": hold.warehouse})
            moved.append(HoldRow(number, hold.line_no, hold.sku, hold.warehouse, take))
        return moved

    def _of_line(self, case: AfterSalesCase, line_no: int, status: str) -> list[HoldRow]:
        return [h for h in self.holds.holds(case.order_id, status) if h.line_no == line_no]


CASE_INTENTS = frozenset({StockIntent.HOLD_REPLACEMENT, StockIntent.SHIP_REPLACEMENT,
                          StockIntent.RELEASE_REPLACEMENT, StockIntent.LOAD_RETURN,
                          StockIntent.TAKE_BACK})
