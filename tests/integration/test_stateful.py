"""Random trigger sequences against a simple reference model (hypothesis stateful testing).
Orders of two or more SKU-A wait for a person (under_review); the buyer may pay meanwhile, and
approve / reject / cancel then sell, refund or release accordingly.

Invariants after every step: stock is conserved (on_hand and reserved never negative, reserved
equals the live holds, per-sku totals match the model), refunded ≤ paid, every order is in the
state the model predicts, and the history has exactly one row per successful fire.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from orderpilot import GuardRejected, InsufficientStock, InvalidTransition, ManualClock, OrderPilot
from statemachine.risk_port import Reason, RiskAction, RiskDecision, approve_everything
from tests.conftest import START
from tests.factories import ADDRESS
from tests.unit.test_transition_tables import ORDER_TABLE

STOCK = {("SKU-A", "WH-1"): 5, ("SKU-A", "WH-2"): 3, ("SKU-B", "WH-1"): 4}
PRICE = {"SKU-A": 1999, "SKU-B": 500}
HOLD = timedelta(minutes=20)
REVIEW_ABOVE = 3000  # two or more SKU-A wait for a person; the buyer may pay meanwhile
RANDOM_TRIGGERS = ("cancel", "start_picking", "pack", "ship", "close", "approve", "reject")
_TEMPLATE: dict[str, Path] = {}


def empty_store() -> Path:
    """A migrated, stocked database file, built once and copied for each example (fast)."""
    if "path" not in _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="orderpilot-hypo-"))
        pilot = OrderPilot(f"sqlite:///{folder / 'template.db'}", risk_check=approve_everything)
        for (sku, wh), qty in STOCK.items():
            pilot.inventory.receive(sku=sku, warehouse=wh, quantity=qty)
        pilot.close()
        _TEMPLATE["path"] = folder / "template.db"
    target = Path(tempfile.mkdtemp(prefix="orderpilot-case-")) / "store.db"
    shutil.copy(_TEMPLATE["path"], target)
    return target


def review_big_orders(facts, store) -> RiskDecision:
    if facts.amount > REVIEW_ABOVE:
        return RiskDecision(RiskAction.REVIEW, 60.0, (Reason("amount", "big"),))
    return approve_everything(facts, store)


@dataclass
class Expected:
    sku: str
    quantity: int
    state: str = "awaiting_payment"
    paid: int = 0
    refunded: int = 0
    hold_until: datetime | None = None
    fires: int = 2  # place + the risk engine's approve
    refundable_units: int = 0
    delivered_at: datetime | None = None

    @property
    def total(self) -> int:
        return self.quantity * PRICE[self.sku]


@dataclass
class Model:
    on_hand: dict[str, int] = field(default_factory=lambda: {"SKU-A": 8, "SKU-B": 4})
    reserved: dict[str, int] = field(default_factory=lambda: {"SKU-A": 0, "SKU-B": 0})
    orders: dict[str, Expected] = field(default_factory=dict)


class OrderLifecycleMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.path = empty_store()
        self.clock = ManualClock(START)
        self.pilot = OrderPilot(f"sqlite:///{self.path}", clock=self.clock,
                                risk_check=review_big_orders)
        self.model = Model()

    def teardown(self):
        self.pilot.close()
        shutil.rmtree(self.path.parent, ignore_errors=True)

    # --- rules --------------------------------------------------------------------------------

    @rule(sku=st.sampled_from(["SKU-A", "SKU-B"]), quantity=st.integers(1, 4),
          buyer=st.integers(1, 3))
    def place(self, sku, quantity, buyer):
        free = self.model.on_hand[sku] - self.model.reserved[sku]
        try:
            order = self.pilot.orders.place(
                buyer_id=f"b-{buyer}", shipping_address=ADDRESS,
                lines=[{"sku": sku, "quantity": quantity, "unit_price": PRICE[sku]}])
        except InsufficientStock:
            assert quantity > free
            return
        assert quantity <= free
        self.model.reserved[sku] += quantity
        if quantity * PRICE[sku] > REVIEW_ABOVE:  # place + review: no hold timer yet
            self.model.orders[order.id] = Expected(sku, quantity, state="under_review")
            return
        self.model.orders[order.id] = Expected(sku, quantity, hold_until=self.clock.now() + HOLD)

    @precondition(lambda self: self._payable())
    @rule(data=st.data())
    def pay(self, data):
        order_id = data.draw(st.sampled_from(self._payable()))
        exp = self.model.orders[order_id]
        self.pilot.orders.fire(order_id, "pay", amount=exp.total, payment_ref=f"p-{order_id}")
        exp.paid, exp.fires = exp.total, exp.fires + 1
        if exp.state == "under_review":  # kept while a person decides: the stock stays held
            return
        self.model.on_hand[exp.sku] -= exp.quantity
        self.model.reserved[exp.sku] -= exp.quantity
        exp.state = "paid"

    @precondition(lambda self: self.model.orders)
    @rule(data=st.data(), trigger=st.sampled_from(RANDOM_TRIGGERS))
    def fire_anything(self, data, trigger):
        order_id = data.draw(st.sampled_from(sorted(self.model.orders)))
        exp = self.model.orders[order_id]
        target = ORDER_TABLE[exp.state].get(trigger)
        if (exp.state, trigger, exp.paid > 0) == ("under_review", "approve", True):
            target = "paid"  # paid while it waited: approval makes it paid
        held = (exp.state, trigger) == ("packed", "cancel") and exp.refunded < exp.paid
        try:
            self.pilot.orders.fire(order_id, trigger)
        except GuardRejected:  # a packed order is cancelled only once its money was all refunded
            assert held, f"{trigger} from {exp.state} refused by a guard"
            return
        except InvalidTransition:
            assert target is None, f"{trigger} from {exp.state} should be allowed"
            return
        assert target is not None, f"{trigger} from {exp.state} should be refused"
        assert not held, "a packed order with money not refunded was cancelled"
        self._apply(exp, trigger, target)

    @precondition(lambda self: self._in("shipped"))
    @rule(data=st.data())
    def carrier_delivers(self, data):
        order_id = data.draw(st.sampled_from(self._in("shipped")))
        for parcel in self.pilot.shipments.of_order(order_id):
            self.pilot.shipments.fire(parcel.id, "pick_up")
            self.pilot.shipments.fire(parcel.id, "deliver")
        exp = self.model.orders[order_id]
        exp.state, exp.fires, exp.delivered_at = "delivered", exp.fires + 1, self.clock.now()
        exp.refundable_units = exp.quantity

    @precondition(lambda self: [o for o, e in self.model.orders.items() if e.refundable_units])
    @rule(data=st.data())
    def refund_one_unit(self, data):
        order_id = data.draw(st.sampled_from(
            sorted(o for o, e in self.model.orders.items() if e.refundable_units)))
        case = self.pilot.cases.open(order_id, kind="refund_only", reason="broken",
                                     lines=[{"line_no": 1, "quantity": 1}])
        self.pilot.cases.fire(case.id, "auto_approve")
        self.pilot.cases.fire(case.id, "refund")
        exp = self.model.orders[order_id]
        exp.refunded += PRICE[exp.sku]
        exp.refundable_units -= 1
        exp.fires += 1  # the order's own `refund` step

    @rule(minutes=st.integers(1, 30))
    def time_passes_and_the_sweep_runs(self, minutes):
        now = self.clock.advance(minutes=minutes)
        self.pilot.sweep()
        for exp in self.model.orders.values():
            if exp.state == "awaiting_payment" and exp.hold_until <= now:
                exp.state, exp.fires = "expired", exp.fires + 1
                self.model.reserved[exp.sku] -= exp.quantity

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def stock_is_conserved(self):
        levels = self.pilot.inventory.levels()
        assert all(lv.on_hand >= 0 and lv.reserved >= 0 for lv in levels)
        assert self.pilot.inventory.reconcile() == []  # reserved == sum of live holds
        for sku in PRICE:
            assert sum(lv.on_hand for lv in levels if lv.sku == sku) == self.model.on_hand[sku]
            assert sum(lv.reserved for lv in levels if lv.sku == sku) == \
                self.model.reserved[sku]

    @invariant()
    def orders_match_the_model(self):
        for order_id, exp in self.model.orders.items():
            view = self.pilot.orders.get(order_id)
            assert (view.state, view.paid, view.refunded) == (exp.state, exp.paid, exp.refunded)
            assert view.refunded <= view.paid
            steps = [h for h in self.pilot.orders.history(order_id) if h.entity == "order"]
            assert len(steps) == exp.fires

    # --- helpers ------------------------------------------------------------------------------

    def _in(self, state: str) -> list[str]:
        return sorted(o for o, e in self.model.orders.items() if e.state == state)

    def _payable(self) -> list[str]:
        """Awaiting payment, or waiting for a person with nothing paid yet."""
        return sorted(o for o, e in self.model.orders.items() if e.state == "awaiting_payment"
                      or (e.state == "under_review" and not e.paid))

    def _apply(self, exp: Expected, trigger: str, target: str) -> None:
        if trigger == "approve" and target == "paid":  # the held stock is sold
            self.model.on_hand[exp.sku] -= exp.quantity
            self.model.reserved[exp.sku] -= exp.quantity
        elif trigger == "approve":
            exp.hold_until = self.clock.now() + HOLD
        elif trigger == "reject":  # the stock goes back; money paid meanwhile is refunded
            self.model.reserved[exp.sku] -= exp.quantity
            exp.refunded = exp.paid
        if trigger == "cancel":
            if exp.state in ("created", "under_review", "awaiting_payment"):
                self.model.reserved[exp.sku] -= exp.quantity
            else:  # paid or picking: the deducted stock goes back on hand
                self.model.on_hand[exp.sku] += exp.quantity
            exp.refunded = exp.paid
        exp.state, exp.fires = target, exp.fires + 1


OrderLifecycleMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
test_random_trigger_sequences_keep_every_invariant = OrderLifecycleMachine.TestCase
