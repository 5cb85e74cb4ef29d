"""When the replay must run the product's sweep, so that bigger batches stay exact.

The reference schedule is a sweep at every window boundary (hourly). A sweep that finds nothing
due is a no-op, so the replay may apply several windows of events in one batch and sweep only at
the end, provided no timer falls due inside the batch. That holds until the earliest of:

- the earliest deadline already in the store (rounded up to the window grid);
- `shortest` after the batch start, where `shortest` is the shortest timer any event arms
  (scan silence, pickup, auto-complete, review and after-sales SLAs), minus nothing: a timer
  armed inside the batch cannot fall due before the batch ends;
- the two timers an event may arm sooner: the stock hold of an order placed in the batch that
  no payment or extension will clear in time, and the promised delivery of a parcel shipped in
  the batch.

The product still decides everything; this only skips sweeps that would have found nothing. A
test replays the same file with hourly sweeps on the per-transition path and with these batches
on the bulk path, and compares every transition.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from integrations.replay.events import Event, Stage
from integrations.replay.olist import Timeline
from statemachine.policies import DeadlineKind, Timeouts

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ceil_to(when: datetime, window: timedelta) -> datetime:
    """The first window boundary at or after `when`."""
    steps = -((EPOCH - when) // window)
    return EPOCH + steps * window


def floor_to(when: datetime, window: timedelta) -> datetime:
    return EPOCH + ((when - EPOCH) // window) * window


def shortest_timer(timeouts: Timeouts) -> timedelta:
    return min(timeouts.scan_silence, timeouts.pickup, timeouts.auto_complete,
               timeouts.review_sla, timeouts.aftersales_sla)


def batch_end(start: datetime, events: Sequence[Event], first: int, window: timedelta,
              timeouts: Timeouts, earliest_due: datetime | None,
              timelines: dict[str, Timeline], pending_payments: bool) -> datetime:
    """The latest sweep time up to which events from `first` on may be applied in one batch."""
    end = floor_to(start + shortest_timer(timeouts), window)
    if earliest_due is not None:
        end = min(end, ceil_to(earliest_due, window))
    for e in _until(events, first, end):
        soon = _early_timer(e, timelines[e.ref], timeouts, pending_payments)
        if soon is not None and soon < end:
            end = min(end, ceil_to(soon, window))
    return max(end, start + window)


def _until(events: Sequence[Event], first: int, end: datetime) -> Sequence[Event]:
    last = first
    while last < len(events) and events[last].at < end:
        last += 1
    return events[first:last]


def _early_timer(e: Event, t: Timeline, timeouts: Timeouts, pending_payments: bool
                 ) -> datetime | None:
    if e.stage is Stage.PLACE:
        hold_end = e.at + timeouts.hold
        return None if will_clear(t, HOLD, hold_end, pending_payments) else hold_end
    if e.stage is Stage.START_PAYMENT:
        pay_by = e.at + timeouts.payment_pending
        return None if will_clear(t, PAYMENT_DUE, pay_by, pending_payments) else pay_by
    if e.stage is Stage.HAND_OVER:
        return t.promised_by or e.at + timeouts.promised_delivery
    return None


HOLD, PAYMENT_DUE = DeadlineKind.HOLD_EXPIRY, DeadlineKind.PAYMENT_DUE
WAITING = (HOLD.value, PAYMENT_DUE.value)  # the timers a known payment may clear


def will_clear(t: Timeline, kind: DeadlineKind, due: datetime, pending_payments: bool) -> bool:
    """True if the timeline pays, starts a payment or cancels before this timer (a hold or a
    pending payment's deadline) falls due."""
    paid = t.approved_at is not None and (t.approved_at < due or (
        kind is HOLD and pending_payments))  # a payment starts a minute before the hold ends
    return paid or (t.cancelled and t.last_known < due)
