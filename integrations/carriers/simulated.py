"""A deterministic simulated carrier for the demo, tests and benchmarks.

Each parcel's whole journey is drawn when its waybill is created, from a random generator
seeded with (seed, tracking number): the same seed always gives the same scans at the same
offsets. `tracking()` shows the events whose time has come on the injected clock. Knobs set
the delays, how often a parcel goes quiet (stalls) and how often it is lost.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from statemachine.clock import Clock
from statemachine.ports import (
    CarrierProfile,
    ChaseTicket,
    TrackingEvent,
    UnknownParcel,
    Waybill,
    WaybillRefused,
    WaybillRequest,
)
from statemachine.tracking import CarrierStatus as St
from statemachine.waybills import COUNT_MAX


@dataclass(frozen=True, slots=True)
class Knobs:
    seed: int = 0
    pickup_hours: tuple[float, float] = (2.0, 24.0)
    hop_hours: tuple[float, float] = (6.0, 30.0)
    hops: tuple[int, int] = (1, 3)
    stall_rate: float = 0.0      # share of parcels that go quiet mid-way
    stall_hours: float = 72.0    # how long they stay quiet unless chased
    loss_rate: float = 0.0       # share of parcels that never arrive
    lost_after_hours: float = 168.0
    chase_answer_hours: float = 4.0  # a chased quiet parcel scans again this soon


@dataclass
class _Parcel:
    waybill: Waybill
    events: list[TrackingEvent]
    chases: list[ChaseTicket] = field(default_factory=list)


def waybill_prefix(carrier: str) -> str:
    """What the carrier's waybill numbers start with (SIM-EXPRESS-0000042): its name in
    capitals, so carriers whose names differ only in case ("SF", "sf") share the numbers, and
    are counted as one (service/carrier_adapters.py keys the store's counter by it)."""
    return carrier.upper()


class SimulatedCarrier:
    """`numbers`: where waybill numbers come from — the store's counter for the adapter the
    CLI and the console use (service/carrier_adapters.py: unique across the processes on one
    store), else 1, 2, … in this object (a demo, a test, a benchmark: one process); None from
    it: the numbers are used up (WaybillRefused, nothing bought)."""

    def __init__(self, profile: CarrierProfile, clock: Clock, knobs: Knobs | None = None,
                 numbers: Callable[[], int | None] | None = None):
        self.profile, self.clock, self.knobs = profile, clock, knobs or Knobs()
        self._parcels: dict[str, _Parcel] = {}
        self._numbers = numbers or itertools.count(1).__next__

    def create_waybill(self, request: WaybillRequest) -> Waybill:
        now, prefix, number = self.clock.now(), waybill_prefix(self.profile.name), self._numbers()
        if number is None:
            raise WaybillRefused(self.profile.name, request.order_id,
                                 f"its waybill numbers are used up ({prefix}-{COUNT_MAX} "
                                 f"was the last a BIGINT counter holds)")
        tracking_no = f"{prefix}-{number:07d}"
        waybill = Waybill(self.profile.name, tracking_no, now,
                          now + timedelta(days=self.profile.promised_days),
                          request.declared_value >= self.profile.insured_value_threshold,
                          remark=request.flag)  # printed, never dropped (WaybillRequest.flag)
        rng = random.Random(f"{self.knobs.seed}:{tracking_no}")
        self._parcels[tracking_no] = _Parcel(waybill, _journey(tracking_no, now, rng,
                                                                self.knobs))
        return waybill

    def tracking(self, tracking_no: str) -> list[TrackingEvent]:
        now = self.clock.now()
        return [e for e in self._parcel(tracking_no).events if e.at <= now]

    def chase(self, tracking_no: str, reason: str) -> ChaseTicket:
        """Record the chase; a quiet (not lost) parcel is found and scans again soon."""
        parcel, now = self._parcel(tracking_no), self.clock.now()
        ticket = ChaseTicket(f"{tracking_no}-chase-{len(parcel.chases) + 1}", tracking_no,
                             reason, now)
        parcel.chases.append(ticket)
        upcoming = [e for e in parcel.events if e.at > now]
        if upcoming and upcoming[0].status is not St.LOST:
            shift = upcoming[0].at - (now + timedelta(hours=self.knobs.chase_answer_hours))
            if shift > timedelta(0):
                parcel.events = [e if e.at <= now else _moved(e, -shift) for e in parcel.events]
        return ticket

    def _parcel(self, tracking_no: str) -> _Parcel:
        parcel = self._parcels.get(tracking_no)
        if parcel is None:
            raise UnknownParcel(self.profile.name, tracking_no)
        return parcel


def _journey(tracking_no: str, start: datetime, rng: random.Random,
             knobs: Knobs) -> list[TrackingEvent]:
    steps: list[tuple[St, float, str | None]] = [(St.LABEL_CREATED, 0.0, None),
                                                  (St.PICKED_UP, rng.uniform(*knobs.pickup_hours),
                                                   "origin depot")]
    hops = rng.randint(*knobs.hops)
    stall_at = rng.randint(1, hops) if rng.random() < knobs.stall_rate else None
    lost = rng.random() < knobs.loss_rate
    for hop in range(1, hops + 1):
        delay = rng.uniform(*knobs.hop_hours) + (knobs.stall_hours if hop == stall_at else 0)
        steps.append((St.IN_TRANSIT, delay, f"hub {hop}"))
        if lost:
            steps.append((St.LOST, knobs.lost_after_hours, None))
            break
    if not lost:
        steps += [(St.OUT_FOR_DELIVERY, rng.uniform(*knobs.hop_hours), "local depot"),
                  (St.DELIVERED, rng.uniform(1.0, 8.0), "recipient")]
    at, events = start, []
    for n, (status, hours, location) in enumerate(steps, start=1):
        at += timedelta(hours=hours)
        events.append(TrackingEvent(f"{tracking_no}:{n}", tracking_no, status, at, location))
    return events


def _moved(event: TrackingEvent, by: timedelta) -> TrackingEvent:
    return TrackingEvent(event.event_id, event.tracking_no, event.status, event.at + by,
                         event.location)


class AdoptingCarrier(SimulatedCarrier):
    """The simulated carrier for parcels whose waybill was bought elsewhere: an unknown
    tracking number is adopted as a parcel with no scans, so it can be chased."""

    def _parcel(self, tracking_no: str) -> _Parcel:
        if tracking_no not in self._parcels:
            now = self.clock.now()
            self._parcels[tracking_no] = _Parcel(
                Waybill(self.profile.name, tracking_no, now,
                        now + timedelta(days=self.profile.promised_days), False), [])
        return super()._parcel(tracking_no)
