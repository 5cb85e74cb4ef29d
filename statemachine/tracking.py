"""Carrier tracking events → parcel triggers, including events that arrive out of order.

Carriers do not promise order: a `delivered` scan may land before `in_transit`, a late
`in_transit` scan after `delivered`. `plan_tracking` decides, from the parcel's state alone,
which triggers to fire (possibly a bridging `pick_up`) or why the event is only recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from statemachine.shipment import PROGRESS as RANK
from statemachine.shipment import SHIPMENT_LIFECYCLE, ShipmentState


class CarrierStatus(StrEnum):
    LABEL_CREATED = "label_created"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    LOST = "lost"
    RETURNED = "returned_to_sender"


TRIGGER = {CarrierStatus.PICKED_UP: "pick_up", CarrierStatus.IN_TRANSIT: "scan",
           CarrierStatus.OUT_FOR_DELIVERY: "out_for_delivery", CarrierStatus.DELIVERED: "deliver",
           CarrierStatus.EXCEPTION: "stall", CarrierStatus.LOST: "lose",
           CarrierStatus.RETURNED: "return_to_sender"}
FINAL = {ShipmentState.DELIVERED, ShipmentState.LOST, ShipmentState.RETURNED_TO_SENDER}


@dataclass(frozen=True, slots=True)
class TrackingPlan:
    """Triggers to fire in order (empty: record only) and a note saying why, if any."""

    triggers: tuple[str, ...]
    note: str | None = None


def plan_tracking(state: ShipmentState, status: CarrierStatus,
                  reached: ShipmentState | None = None) -> TrackingPlan:
    """What a carrier event means for a parcel in `state` (a stalled parcel: one that had got as
    far as `reached`); never raises for a known status."""
    if status is CarrierStatus.LABEL_CREATED:
        return TrackingPlan((), "label event recorded; the parcel already exists")
    if state in FINAL:
        return TrackingPlan((), f"parcel is already {state}; {status} event recorded only")
    trigger = TRIGGER[status]
    if state is ShipmentState.STALLED and reached is not None and status.value in RANK \
            and RANK[status.value] < RANK[reached.value]:
        return TrackingPlan((), f"{status} event is older than how far the parcel had come "
                                f"({reached}) before it stalled; recorded only")
    if status.value not in RANK or state is ShipmentState.STALLED:
        return _direct(state, status, trigger)
    if RANK[status.value] < RANK[state.value]:
        return TrackingPlan((), f"{status} event is older than the parcel's state {state}; "
                                "recorded only")
    if not SHIPMENT_LIFECYCLE.can(state, trigger) and state is ShipmentState.LABEL_CREATED:
        return TrackingPlan(("pick_up", trigger), f"pickup inferred from a later {status} event")
    return _direct(state, status, trigger)


def _direct(state: ShipmentState, status: CarrierStatus, trigger: str) -> TrackingPlan:
    if SHIPMENT_LIFECYCLE.can(state, trigger):
        return TrackingPlan((trigger,))
    return TrackingPlan((), f"{status} event does not move a parcel that is {state}; "
                            "recorded only")
