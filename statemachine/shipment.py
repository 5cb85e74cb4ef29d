"""The parcel (shipment) aggregate and its lifecycle table.

An order may ship in several parcels (one per warehouse it was allocated from). A parcel that
goes quiet is `stalled`; a new carrier scan moves it on again, but never back behind how far it
had come before it stalled (`reached`): a delayed `picked_up` scan arriving after a stall must
not undo an `out_for_delivery`. The order is delivered when every parcel is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from statemachine import ids
from statemachine.lifecycle import Creation, Guard, Lifecycle, Step, Timer
from statemachine.policies import DeadlineKind, Timeouts


class ShipmentState(StrEnum):
    LABEL_CREATED = "label_created"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    STALLED = "stalled"
    LOST = "lost"
    RETURNED_TO_SENDER = "returned_to_sender"


@dataclass(eq=False)
class Shipment:
    id: int
    order_id: int
    state: ShipmentState
    version: int
    warehouse: str
    carrier: str
    tracking_no: str
    created_at: datetime
    last_scan_at: datetime | None = None
    promised_by: datetime | None = None
    stall_reason: str | None = None
    reached: ShipmentState | None = None  # the furthest point on the way (None: not scanned)
    purpose: str = "order"  # order | return (buyer → us) | replacement | repaired (→ buyer)
    case_id: int | None = None  # the after-sales case a non-order parcel belongs to
    refusal: str | None = None
    step_payload: dict[str, Any] = field(default_factory=dict)

    @property
    def public_id(self) -> str:
        return shipment_public_id(self.id)


def shipment_public_id(number: int) -> str:
    return ids.SHIPMENT(number)


class ShipmentTrigger(StrEnum):
    PICK_UP = "pick_up"
    SCAN = "scan"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVER = "deliver"
    STALL = "stall"
    MARK_LATE = "mark_late"
    LOSE = "lose"
    RETURN_TO_SENDER = "return_to_sender"


# how far along the way each state is; a stalled parcel keeps the rank it had reached
PROGRESS = {"label_created": 0, "picked_up": 1, "in_transit": 2, "out_for_delivery": 3,
            "delivered": 4}


def progress_of(shipment: Shipment) -> int:
    """How far the parcel has come (a stalled parcel: as far as before it stalled)."""
    point = shipment.reached or shipment.state
    return PROGRESS.get(point.value, 0)


def not_behind(dest: ShipmentState) -> Guard:
    """A guard: moving to `dest` must not take the parcel back behind where it had got."""
    def not_behind_progress(shipment: Shipment, ctx: Mapping[str, Any]) -> str | None:
        if PROGRESS[dest.value] < progress_of(shipment):
            return (f"the parcel had already reached {shipment.reached}; a {dest} scan is "
                    "older than that")
        return None

    not_behind_progress.__name__ = f"not_behind_{dest.value}"
    return not_behind_progress


def record_scan(shipment: Shipment, ctx: Mapping[str, Any]) -> dict[str, Any]:
    shipment.last_scan_at, shipment.stall_reason = ctx["at"], None
    shipment.reached = shipment.state  # the guards let a scan only move the parcel forward
    return {key: ctx[key] for key in ("location", "scan_id") if ctx.get(key)}


def record_stall(shipment: Shipment, ctx: Mapping[str, Any]) -> dict[str, Any]:
    shipment.stall_reason = ctx.get("reason") or "no carrier scan"
    return {"reason": shipment.stall_reason}


def record_late(shipment: Shipment, ctx: Mapping[str, Any]) -> dict[str, Any]:
    return {"reason": ctx.get("reason") or "past the promised delivery date"}


def note_reason(shipment: Shipment, ctx: Mapping[str, Any]) -> dict[str, Any]:
    return {"reason": ctx["reason"]} if ctx.get("reason") else {}


S = ShipmentState
MOVING = (S.PICKED_UP, S.IN_TRANSIT, S.OUT_FOR_DELIVERY)

SHIPMENT_STEPS = (
    Step("pick_up", (S.LABEL_CREATED, S.STALLED), S.PICKED_UP, (not_behind(S.PICKED_UP),),
         record_scan),
    Step("scan", (S.PICKED_UP, S.IN_TRANSIT, S.STALLED), S.IN_TRANSIT,
         (not_behind(S.IN_TRANSIT),), record_scan),
    Step("out_for_delivery", (S.PICKED_UP, S.IN_TRANSIT, S.STALLED), S.OUT_FOR_DELIVERY,
         (not_behind(S.OUT_FOR_DELIVERY),), record_scan),
    Step("deliver", (*MOVING, S.STALLED), S.DELIVERED, effect=record_scan),
    Step("stall", (S.LABEL_CREATED, *MOVING), S.STALLED, effect=record_stall),
    # a parcel already stalled when its promised date passes is late as well: recorded, not lost
    Step("mark_late", (S.STALLED,), None, effect=record_late, event="late"),
    Step("lose", (*MOVING, S.STALLED), S.LOST, effect=note_reason),
    Step("return_to_sender", (*MOVING, S.STALLED), S.RETURNED_TO_SENDER, effect=note_reason),
)

CLOSED = frozenset({S.DELIVERED, S.LOST, S.RETURNED_TO_SENDER})


def pickup_due(shipment: Shipment, now: datetime, timeouts: Timeouts) -> datetime | None:
    """A return label waits for the buyer to hand the parcel in: no pickup deadline."""
    return None if shipment.purpose == "return" else shipment.created_at + timeouts.pickup


def scan_silence_due(shipment: Shipment, now: datetime, timeouts: Timeouts) -> datetime:
    return now + timeouts.scan_silence


def promise_due(shipment: Shipment, now: datetime, timeouts: Timeouts) -> datetime | None:
    """The promise stays armed while the parcel is stalled, so a stalled parcel that also misses
    its promised date is flagged late (found by replaying real orders: without it most late
    deliveries went unflagged because the parcel had stalled first)."""
    promised = shipment.promised_by
    return promised if promised is not None and promised > now else None


# A parcel's timers are re-armed at every step: each scan restarts the silence clock.
SHIPMENT_TIMERS = (
    Timer(DeadlineKind.PICKUP_DUE, frozenset({S.LABEL_CREATED}), pickup_due, rearm=True),
    Timer(DeadlineKind.SCAN_SILENCE, frozenset(MOVING), scan_silence_due, rearm=True),
    Timer(DeadlineKind.PROMISED_DELIVERY, frozenset(set(S) - CLOSED), promise_due, rearm=True),
)

SHIPMENT_LIFECYCLE = Lifecycle(
    "shipment", ShipmentState, ShipmentState.LABEL_CREATED, SHIPMENT_STEPS,
    triggers=ShipmentTrigger, creation=Creation("create", "label_created"),
    timers=SHIPMENT_TIMERS)
