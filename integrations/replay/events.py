"""Timelines → the stream of triggers they stand for, merged across orders in time order.

Each timestamp becomes what it means in the lifecycle: purchase → place (the risk check
approves), payment in flight → start_payment (see `payment_started`), approval → pay, carrier
hand-off → start_picking + pack + ship + pick_up of every parcel, simulated carrier scans →
scan, customer delivery → deliver of every parcel (which delivers the order), and a cancelled
or unavailable order is cancelled at its last known step.
Nothing about lateness or stalls is taken from the file: the product's timers decide those.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum

from integrations.replay.olist import Timeline
from integrations.replay.simulation import basket, carrier_for, scan_times

HOLD = timedelta(minutes=20)


class Stage(IntEnum):
    """Also the order of events that share a timestamp."""

    PLACE = 0
    START_PAYMENT = 1
    PAY = 2
    HAND_OVER = 3
    SCAN = 4
    DELIVER = 5
    CANCEL = 6


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime
    stage: Stage
    row: int
    ref: str
    warehouse: str | None = None  # the parcel, for scans and deliveries


def events_of(t: Timeline, hold: timedelta | None = HOLD) -> list[Event]:
    """Every trigger one order's timeline stands for (`hold`: see `payment_started`)."""
    out = [Event(t.purchased_at, Stage.PLACE, t.row, t.ref)]
    if t.approved_at:
        started = payment_started(t.purchased_at, t.approved_at, hold) if hold else None
        if started is not None:
            out.append(Event(started, Stage.START_PAYMENT, t.row, t.ref))
        out.append(Event(t.approved_at, Stage.PAY, t.row, t.ref))
    if t.handed_over_at:
        out.append(Event(t.handed_over_at, Stage.HAND_OVER, t.row, t.ref))
        for wh in parcel_warehouses(t.ref):
            scans = scan_times(t.ref, carrier_for(t.ref, wh), t.handed_over_at, t.delivered_at)
            out.extend(Event(at, Stage.SCAN, t.row, t.ref, wh) for at in scans)
            if t.delivered_at:
                out.append(Event(t.delivered_at, Stage.DELIVER, t.row, t.ref, wh))
    if t.cancelled:
        out.append(Event(t.last_known, Stage.CANCEL, t.row, t.ref))
    return out


def payment_started(placed: datetime, paid: datetime, hold: timedelta) -> datetime | None:
    """When the gateway reports a payment in flight, for an approval the hold would not outlive.

    The data's approval comes minutes to days after purchase (boleto payments take days), but
    a hold lasts `hold` (15–30 min). The replay plays the gateway reporting "payment pending" a
    minute before the hold lapses: the order waits in `payment_pending` until its own deadline
    (`ORDERPILOT_PAYMENT_PENDING_HOURS`); an approval later than that finds it expired.
    """
    hold_end = placed + hold
    return hold_end - timedelta(minutes=1) if paid >= hold_end else None


def merged(timelines: Iterable[Timeline], hold: timedelta | None = HOLD) -> list[Event]:
    """All orders' events in time order (ties: lifecycle stage, then file row)."""
    events = [e for t in timelines for e in events_of(t, hold)]
    events.sort(key=lambda e: (e.at, e.stage, e.row))
    return events


def parcel_warehouses(ref: str) -> list[str]:
    """One parcel per warehouse the basket is stocked in (what `ship` creates by default)."""
    return sorted({line.warehouse for line in basket(ref)})
