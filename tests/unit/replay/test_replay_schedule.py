"""The batch planner only skips sweeps that would have found nothing due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from integrations.replay.events import Event, Stage
from integrations.replay.olist import Timeline
from integrations.replay.schedule import batch_end, ceil_to, floor_to
from statemachine.policies import Timeouts

T0 = datetime(2017, 1, 3, 0, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def timeline(ref: str, approved: datetime | None = T0, status: str = "delivered",
             promised: datetime | None = None) -> Timeline:
    return Timeline(2, ref, "c", status, T0, approved, None, None, promised)


def end(events: list[Event], timelines: dict[str, Timeline], earliest_due=None,
        pending: bool = True) -> datetime:
    return batch_end(T0, events, 0, HOUR, Timeouts(), earliest_due, timelines, pending)


def test_with_nothing_pending_a_batch_spans_the_shortest_timer() -> None:
    assert end([], {}) == T0 + timedelta(hours=24)


def test_a_stored_deadline_ends_the_batch_at_the_sweep_that_fires_it() -> None:
    assert end([], {}, earliest_due=T0 + timedelta(hours=5, minutes=10)) == T0 + 6 * HOUR


def test_a_promise_armed_inside_the_batch_ends_it_at_the_promise() -> None:
    t = timeline("a", promised=T0 + timedelta(hours=9, minutes=30))
    events = [Event(T0 + 2 * HOUR, Stage.HAND_OVER, 2, "a")]
    assert end(events, {"a": t}) == T0 + 10 * HOUR


def test_an_unpaid_order_placed_inside_the_batch_ends_it_at_its_hold_expiry() -> None:
    events = [Event(T0 + 3 * HOUR, Stage.PLACE, 2, "a")]
    assert end(events, {"a": timeline("a", approved=None, status="created")}) == T0 + 4 * HOUR


def test_a_paid_order_does_not_shorten_the_batch_unless_payments_cannot_pend() -> None:
    t = timeline("a", approved=T0 + 5 * HOUR)
    events = [Event(T0 + 3 * HOUR, Stage.PLACE, 2, "a")]
    assert end(events, {"a": t}) == T0 + 24 * HOUR
    assert end(events, {"a": t}, pending=False) == T0 + 4 * HOUR


def test_a_payment_pending_past_its_deadline_ends_the_batch_at_that_deadline() -> None:
    # started at 03:19, the 72 h deadline passes before the approval at 80 h: the order expires
    late, soon = timeline("a", approved=T0 + 80 * HOUR), timeline("b", approved=T0 + 9 * HOUR)
    started = T0 + 3 * HOUR + timedelta(minutes=19)
    assert end([Event(started, Stage.START_PAYMENT, 2, "b")], {"b": soon}) == T0 + 24 * HOUR
    long_batch = batch_end(T0, [Event(started, Stage.START_PAYMENT, 2, "a")], 0, HOUR,
                           Timeouts(scan_silence=timedelta(hours=100),
                                    pickup=timedelta(hours=100),
                                    auto_complete=timedelta(days=7),
                                    review_sla=timedelta(hours=100),
                                    aftersales_sla=timedelta(hours=100)),
                           None, {"a": late}, True)
    assert long_batch == T0 + 76 * HOUR  # 75:19 rounded up to the sweep that fires it


def test_a_batch_is_never_shorter_than_one_window() -> None:
    assert end([], {}, earliest_due=T0 - HOUR) == T0 + HOUR


def test_window_grid_helpers_round_the_right_way() -> None:
    t = T0 + timedelta(minutes=1)
    assert (floor_to(t, HOUR), ceil_to(t, HOUR), ceil_to(T0, HOUR)) == (T0, T0 + HOUR, T0)


def test_speed_paces_simulated_time_against_the_wall_clock(monkeypatch) -> None:
    from integrations.replay import runner

    slept: list[float] = []
    monkeypatch.setattr(runner.time, "sleep", slept.append)
    monkeypatch.setattr(runner.time, "perf_counter", lambda: 10.5)
    # 3,600 simulated seconds at 3,600x should take 1 wall second; 0.5 s have passed
    runner._pace(3600, 10.0, 3600)
    runner._pace(0, 10.0, 3600)  # 0: as fast as possible, never sleeps
    assert slept == [0.5]
