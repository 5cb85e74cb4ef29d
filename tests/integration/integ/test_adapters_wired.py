"""Simulated carrier and gateway driving real orders on a real store."""

from __future__ import annotations

import pytest

from integrations.carriers.simulated import Knobs, SimulatedCarrier
from integrations.console.jobs import Ports, chase_stall
from integrations.ingest.tracking import poll_parcel
from integrations.payments.simulated import SimulatedGateway
from integrations.service.checkout import capture_order
from integrations.service.money_refunds import refund_case
from orderpilot import OrderPilot
from statemachine.ports import CarrierProfile, TransientPaymentError
from statemachine.risk_port import approve_everything
from tests.factories import placed_order, stock

PROFILE = CarrierProfile("sim-express", promised_days=3, insured_value_threshold=10_000)


def paid_and_packed(pilot):
    stock(pilot, quantity=10)
    order = placed_order(pilot, quantity=2)
    capture_order(pilot.context, int(order.id[2:]))
    for trigger in ("start_picking", "pack"):
        pilot.orders.fire(order.id, trigger)
    return order


def test_a_parcel_shipped_with_the_simulated_carrier_is_delivered_by_polling(any_pilot, clock):
    # Given a paid, packed order shipped with a waybill from the simulated carrier
    carrier = SimulatedCarrier(PROFILE, clock, Knobs(seed=4))
    order = paid_and_packed(any_pilot)
    any_pilot.orders.ship_with_labels(order.id, {"sim-express": carrier}, actor="warehouse")
    [parcel] = any_pilot.shipments.of_order(order.id)
    assert parcel.carrier == "sim-express"
    # When the carrier is polled after the journey has had time to happen
    clock.advance(days=10)
    first = poll_parcel(any_pilot.context, carrier, parcel.tracking_no)
    again = poll_parcel(any_pilot.context, carrier, parcel.tracking_no)
    # Then the order is delivered, and polling again only replays
    assert any_pilot.orders.get(order.id).state == "delivered"
    assert all(o.status == 200 for o in first) and all(o.duplicate for o in again)


def test_a_stalled_parcel_is_chased_once_and_resumes(any_pilot, clock):
    knobs = Knobs(seed=2, stall_rate=1.0, stall_hours=300, hops=(1, 1), pickup_hours=(1, 1),
                  hop_hours=(1, 2))
    carrier = SimulatedCarrier(PROFILE, clock, knobs)
    order = paid_and_packed(any_pilot)
    any_pilot.orders.ship_with_labels(order.id, {"sim-express": carrier}, actor="warehouse")
    [parcel] = any_pilot.shipments.of_order(order.id)
    clock.advance(hours=2)
    poll_parcel(any_pilot.context, carrier, parcel.tracking_no)
    # When the parcel stays silent past the scan-silence limit and the sweep runs
    clock.advance(hours=25)
    any_pilot.sweep()
    [parcel] = any_pilot.shipments.of_order(order.id)
    assert parcel.state == "stalled"
    # Then the console's chase job asks the carrier once per stall and tells the buyer, and
    # the chased parcel moves again
    told = []
    ports = Ports(gateway=SimulatedGateway(), carrier=lambda name, clock: carrier,
                  notify=told.append, retry_delays=())
    assert chase_stall(any_pilot.context, ports, parcel.id).startswith("chased: sim-express")
    assert chase_stall(any_pilot.context, ports, parcel.id) == "already chased"
    assert [m.audience for m in told] == ["buyer"]
    clock.advance(hours=knobs.chase_answer_hours)
    poll_parcel(any_pilot.context, carrier, parcel.tracking_no)
    assert any_pilot.shipments.get(parcel.id).state == "in_transit"


@pytest.fixture
def flaky_pilot(any_url, clock):
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                       gateway=SimulatedGateway(seed=1, transient_rate=0.5))
    yield pilot
    pilot.close()


def test_a_capture_that_fails_transiently_is_retried_and_pays_once(flaky_pilot):
    stock(flaky_pilot, quantity=10)
    order = placed_order(flaky_pilot, quantity=1)
    number = int(order.id[2:])
    with pytest.raises(TransientPaymentError):  # seed 1: the first provider call times out
        capture_order(flaky_pilot.context, number)
    assert flaky_pilot.orders.get(order.id).state == "awaiting_payment"
    for _ in range(10):  # the operator (or the retry flow) tries again: same keys
        try:
            operation = capture_order(flaky_pilot.context, number)
            break
        except TransientPaymentError:
            continue
    assert operation.status == "succeeded"
    assert flaky_pilot.orders.get(order.id).payment_ref == operation.payment_ref
    flaky_pilot.context.gateway.transient_rate = 0.0
    capture_order(flaky_pilot.context, number)  # a late retry: replays
    assert [h.trigger for h in flaky_pilot.orders.history(order.id)].count("pay") == 1


def test_a_declined_capture_leaves_the_order_waiting_and_tells_the_staff(any_url, clock):
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                       gateway=SimulatedGateway(decline_above=100))
    stock(pilot, quantity=10)
    order = placed_order(pilot, quantity=1)
    operation = capture_order(pilot.context, int(order.id[2:]))
    assert operation.status == "failed" and "declined" in operation.error
    assert pilot.orders.get(order.id).state == "awaiting_payment"
    pilot.close()


def test_a_case_refund_goes_through_the_gateway_by_line_and_settles_the_order(any_pilot):
    order = paid_and_packed(any_pilot)
    case = any_pilot.cases.open(order.id, kind="refund_only", reason="missing part",
                                lines=[{"line_no": 1, "quantity": 1}])
    with pytest.raises(Exception, match="cannot refund"):
        refund_case(any_pilot.context, int(case.id[2:]), "cs-agent")  # not approved
    any_pilot.cases.fire(case.id, "auto_approve")
    operation = refund_case(any_pilot.context, int(case.id[2:]), "cs-agent")
    assert operation.lines[0].quantity == 1 and operation.amount == 1999
    assert operation.status == "succeeded"
    assert any_pilot.orders.get(order.id).refunded == 1999
    assert any_pilot.cases.get(case.id).state == "refunded"
