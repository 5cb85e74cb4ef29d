"""`Lifecycle.fire` (the table walk every path uses) behaves exactly like the `transitions`
reference, `Lifecycle.reference_fire`, step by step — including the timers and stock intents."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from statemachine.errors import OrderPilotError
from statemachine.lifecycle import Lifecycle
from statemachine.order import ORDER_LIFECYCLE
from statemachine.order_aggregate import Order, OrderState
from statemachine.shipment import SHIPMENT_LIFECYCLE, Shipment, ShipmentState

T0 = datetime(2017, 1, 3, tzinfo=UTC)
GOOD = {"pay": {"amount": 100, "payment_ref": "p"}, "extend_hold": {"until": T0 + timedelta(1)},
        "approve": {"hold_until": T0 + timedelta(minutes=20)}, "refund": {"amount": 10},
        "deliver": {"open_parcels": 0}, "reject": {"reason": "r"}}
BAD = {"pay": {"amount": 1, "payment_ref": "p"}, "extend_hold": {"until": T0},
       "refund": {"amount": 10**6}, "deliver": {"open_parcels": 1}}


def order(state: OrderState) -> Order:
    return Order(id=1, buyer_id="b", state=state, version=1, currency="CNY", total=100,
                 lines=[], created_at=T0, paid=100, hold_expires_at=T0 + timedelta(hours=1))


def parcel(state: ShipmentState) -> Shipment:
    return Shipment(id=1, order_id=1, state=state, version=1, warehouse="w", carrier="c",
                    tracking_no="t", created_at=T0)


def outcome(fire, lifecycle: Lifecycle, model, trigger: str, ctx: dict):  # noqa: ANN001, ANN201
    model = copy.deepcopy(model)
    try:
        fired = fire(model, trigger, at=T0 + timedelta(hours=2), actor="a", **ctx)
    except (OrderPilotError, KeyError) as error:  # KeyError: an effect missing its fact
        return type(error).__name__, str(error), model.state
    return fired, model.state, model.step_payload, vars(model)


CASES = [(ORDER_LIFECYCLE, order(s), t, ctx) for s in OrderState
         for t in ORDER_LIFECYCLE.triggers for ctx in (GOOD.get(t, {}), BAD.get(t, {}))] + \
        [(SHIPMENT_LIFECYCLE, parcel(s), t, {"location": "x"}) for s in ShipmentState
         for t in SHIPMENT_LIFECYCLE.triggers]


@pytest.mark.parametrize(("lifecycle", "model", "trigger", "ctx"), CASES,
                         ids=[f"{c[0].entity}-{c[1].state.value}-{c[2]}-{i}"
                              for i, c in enumerate(CASES)])
def test_table_walk_and_transitions_reference_agree(lifecycle: Lifecycle, model, trigger: str,
                                                     ctx: dict) -> None:
    assert outcome(lifecycle.fire, lifecycle, model, trigger, ctx) == \
        outcome(lifecycle.reference_fire, lifecycle, model, trigger, ctx)
