"""Carrier events → parcel triggers, for every parcel state × carrier status."""

from __future__ import annotations

import pytest

from statemachine.shipment import SHIPMENT_LIFECYCLE, ShipmentState
from statemachine.tracking import FINAL, CarrierStatus, plan_tracking

S, C = ShipmentState, CarrierStatus
EXPECTED = {
    (S.LABEL_CREATED, C.PICKED_UP): ("pick_up",),
    (S.LABEL_CREATED, C.IN_TRANSIT): ("pick_up", "scan"),
    (S.LABEL_CREATED, C.DELIVERED): ("pick_up", "deliver"),
    (S.LABEL_CREATED, C.EXCEPTION): ("stall",),
    (S.PICKED_UP, C.DELIVERED): ("deliver",),
    (S.IN_TRANSIT, C.IN_TRANSIT): ("scan",),
    (S.IN_TRANSIT, C.PICKED_UP): (),
    (S.OUT_FOR_DELIVERY, C.IN_TRANSIT): (),
    (S.STALLED, C.IN_TRANSIT): ("scan",),
    (S.STALLED, C.LOST): ("lose",),
    (S.DELIVERED, C.IN_TRANSIT): (),
    (S.LOST, C.DELIVERED): (),
}


@pytest.mark.parametrize(("state", "status"), list(EXPECTED))
def test_a_carrier_event_maps_to_the_expected_triggers(state, status):
    assert plan_tracking(state, status).triggers == EXPECTED[(state, status)]


@pytest.mark.parametrize("state", list(ShipmentState))
@pytest.mark.parametrize("status", list(CarrierStatus))
def test_every_plan_can_be_fired_in_sequence_or_explains_itself(state, status):
    plan = plan_tracking(state, status)
    current = state
    for trigger in plan.triggers:
        assert SHIPMENT_LIFECYCLE.can(current, trigger), (current, trigger)
        current = next(s.dest for s in SHIPMENT_LIFECYCLE.steps
                       if s.trigger == trigger and current in s.sources)
    assert plan.triggers or plan.note
    if state in FINAL:
        assert plan.triggers == ()


ON_THE_WAY = [S.LABEL_CREATED, S.PICKED_UP, S.IN_TRANSIT, S.OUT_FOR_DELIVERY]


@pytest.mark.parametrize("reached", ON_THE_WAY)
@pytest.mark.parametrize("status", list(CarrierStatus))
def test_a_stalled_parcel_is_never_planned_back_behind_how_far_it_had_come(reached, status):
    plan = plan_tracking(S.STALLED, status, reached)
    for trigger in plan.triggers:
        dest = next(s.dest for s in SHIPMENT_LIFECYCLE.steps if s.trigger == trigger)
        assert dest is None or dest not in ON_THE_WAY or \
            ON_THE_WAY.index(dest) >= ON_THE_WAY.index(reached), (trigger, reached)
    if status is C.PICKED_UP and reached in (S.IN_TRANSIT, S.OUT_FOR_DELIVERY):
        assert plan.triggers == () and reached.value in plan.note
