"""Property: stock is conserved through sales, short picks, transfers, returns, losses and
write-offs. After every step, on a real SQLite file:

    received + Σ adjustments = on hand + in transit between warehouses + shipped

and `reserved` equals the live holds (reconciliation finds no drift)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from datetime import UTC, datetime

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from statemachine.errors import InsufficientStock, InvalidInput
from tests.factories import order_request

from .conftest import make_pilot

SKUS, WAREHOUSES = ("SKU-1", "SKU-2"), ("WH-A", "WH-B", "WH-C")
sku, wh = st.sampled_from(SKUS), st.sampled_from(WAREHOUSES)


class StockLedger(RuleBasedStateMachine):
    policy: dict = {}

    def __init__(self):
        super().__init__()
        from orderpilot import ManualClock

        self.dir = tempfile.mkdtemp()
        self.clock = ManualClock(datetime(2026, 11, 11, 9, tzinfo=UTC))
        self.pilot = make_pilot(f"sqlite:///{self.dir}/p.db", self.clock, **self.policy)
        self.received, self.n = 0, 0
        self.by_state: dict[str, list[str]] = {}
        for s in SKUS:  # every sku starts with some stock in WH-A
            self.pilot.inventory.receive(sku=s, warehouse="WH-A", quantity=8)
            self.received += 8

    def teardown(self):
        self.pilot.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _orders(self, state: str) -> list[str]:
        return [o for o in self.by_state.get("all", []) if self.pilot.orders.get(o).state == state]

    @rule(s=sku, w=wh, q=st.integers(1, 6))
    def receive(self, s, w, q):
        self.pilot.inventory.receive(sku=s, warehouse=w, quantity=q)
        self.received += q

    @rule(s=sku, q=st.integers(1, 3), pay=st.sampled_from([True, True, False]))
    def place(self, s, q, pay):
        self.n += 1
        try:
            order = self.pilot.orders.place(**order_request(f"b-{self.n}", s, q, 100))
        except (InsufficientStock, InvalidInput):  # no stock, or sku not received yet
            return
        self.by_state.setdefault("all", []).append(order.id)
        if pay:
            self.pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref="p")
            self.pilot.orders.fire(order.id, "start_picking")

    @precondition(lambda self: self._orders("picking"))
    @rule(data=st.data(), kind=st.sampled_from(["count", "damage"]))
    def short_pick(self, data, kind):
        order = self.pilot.orders.get(data.draw(st.sampled_from(self._orders("picking"))))
        with self.pilot.context.tx(readonly=True) as tx:
            holds = tx.stock.holds_of([int(order.id[2:])], status="consumed")
        if holds:
            event("short pick")
            hold = data.draw(st.sampled_from(holds))
            self.pilot.fulfilment.report_short(
                order.id, sku=hold.sku, warehouse=hold.warehouse, kind=kind, reason="prop",
                missing=data.draw(st.integers(1, hold.quantity)))

    @precondition(lambda self: self._orders("backordered"))
    @rule(data=st.data(), cancel=st.booleans())
    def settle_backorder(self, data, cancel):
        order_id = data.draw(st.sampled_from(self._orders("backordered")))
        if cancel:
            self.pilot.orders.fire(order_id, "cancel", reason="prop")
            return
        with contextlib.suppress(InsufficientStock):
            self.pilot.fulfilment.retry_backorder(order_id)

    @precondition(lambda self: self._orders("picking") or self._orders("shipped"))
    @rule(data=st.data(), fate=st.sampled_from(["deliver", "lost", "return_ok",
                                                "return_damaged"]),
          settle=st.sampled_from(["refund", "reship"]))
    def parcel_fate(self, data, fate, settle):
        order_id = data.draw(st.sampled_from(self._orders("picking") + self._orders("shipped")))
        if self.pilot.orders.get(order_id).state == "picking":
            for t in self.pilot.fulfilment.transfers(status="in_transit"):
                if t["order_id"] == order_id:  # packing waits for the refill to arrive
                    event("refill transfer received before packing")
                    self.pilot.fulfilment.receive_transfer(t["id"])
            for trigger in ("pack", "ship"):
                self.pilot.orders.fire(order_id, trigger)
        parcel = next(p for p in self.pilot.shipments.of_order(order_id)
                      if p.state in ("label_created", "picked_up"))
        if parcel.state == "label_created":
            self.pilot.shipments.fire(parcel.id, "pick_up")
        event(f"parcel {fate} / {settle}")
        if fate == "deliver":
            self.pilot.shipments.fire(parcel.id, "deliver")
        elif fate == "lost":
            self.pilot.claims.report_lost(parcel.id, reason="prop", settle=settle)
        else:
            self.pilot.shipments.fire(parcel.id, "return_to_sender")
            self.pilot.claims.receive_return(parcel.id, result=fate[7:], settle=settle)

    @rule(s=sku, w=wh, delta=st.sampled_from([-3, -2, -1, 1, 2, 3]), damage=st.booleans())
    def adjust(self, s, w, delta, damage):
        kind = "damage" if damage and delta < 0 else "count"
        with contextlib.suppress(InvalidInput):  # unknown sku × warehouse, or below holds
            self.pilot.fulfilment.adjust_stock(sku=s, warehouse=w, delta=delta, kind=kind,
                                               reason="prop")

    @rule(s=sku, a=wh, b=wh, q=st.integers(1, 4))
    def transfer(self, s, a, b, q):
        with contextlib.suppress(InvalidInput):  # same warehouse, or not enough free stock
            self.pilot.fulfilment.send_transfer(sku=s, from_warehouse=a, to_warehouse=b,
                                                quantity=q, reason="prop")

    @rule(data=st.data())
    def receive_transfer(self, data):
        waiting = self.pilot.fulfilment.transfers(status="in_transit")
        if waiting:
            self.pilot.fulfilment.receive_transfer(data.draw(st.sampled_from(waiting))["id"])

    @invariant()
    def stock_is_conserved(self):
        ledger = self.pilot.fulfilment.ledger()
        assert self.received + ledger["adjusted"] == (
            ledger["on_hand"] + ledger["in_transit"] + ledger["shipped"]), ledger
        assert self.pilot.inventory.reconcile() == []


class StockLedgerWithTransfers(StockLedger):
    """The same, with short picks refilled by transfers to the allocated warehouse."""

    policy = {"refill": "transfer"}


SETTINGS = dict(stateful_step_count=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
StockLedger.TestCase.settings = settings(max_examples=60, **SETTINGS)
StockLedgerWithTransfers.TestCase.settings = settings(max_examples=30, **SETTINGS)
test_stock_is_conserved_through_every_fulfilment_path = StockLedger.TestCase
test_stock_is_conserved_when_refills_travel_by_transfer = StockLedgerWithTransfers.TestCase
