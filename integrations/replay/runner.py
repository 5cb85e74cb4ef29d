"""Run a replay: import, stock up, drive every event on a simulated clock, sweep in between.

Time moves in windows (one simulated hour by default). In each window the events are applied
stage by stage (place, pay, hand-over, scans, deliveries, cancels — per order this is time
order), then the clock is set to the window's end and the product's deadline sweep runs, as an
hourly scheduled sweep would in production. After the last event the sweeps go on (up to
`tail`) until no timer is left, so auto-completion and late parcels resolve.

The risk check approves every order: these orders were accepted by the shop at the time, and
the replay is about the lifecycle; risk rules are backtested on labelled data separately
(`orderpilot risk backtest`). The post-transition hooks (credit events, review tasks) run as
configured, on both paths.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

from integrations.bootstrap import build_context
from integrations.db.replay_store import ReplayStore
from integrations.replay.bulk_driver import BulkDriver
from integrations.replay.drivers import BaseDriver
from integrations.replay.events import Event, merged
from integrations.replay.olist import OLIST, ColumnMap, Skipped, Timeline, read_timelines
from integrations.replay.report import Report, build_report
from integrations.replay.schedule import WAITING, batch_end, floor_to, will_clear
from integrations.replay.service_driver import ServiceDriver
from integrations.replay.simulation import basket
from integrations.service.context import Context
from integrations.service.sweep import sweep
from statemachine.clock import ManualClock
from statemachine.errors import InvalidInput
from statemachine.policies import DeadlineKind
from statemachine.risk_port import approve_everything

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ReplayOptions:
    database_url: str
    bulk: bool = True
    limit: int | None = None
    window: timedelta = timedelta(hours=1)
    tail: timedelta = timedelta(days=60)
    speed: float = 0.0  # simulated seconds per wall second; 0 = as fast as possible
    batching: bool = True  # False: apply and sweep window by window (the reference schedule)
    # a payment later than the hold waits in payment_pending (False: it finds the order expired)
    pending_payments: bool = True
    columns: ColumnMap = field(default_factory=lambda: OLIST)
    assume_tz: tzinfo = UTC


def load(path: str | Path, options: ReplayOptions) -> tuple[list[Timeline], list[Skipped]]:
    """Read up to `limit` rows; consistent timelines and skipped rows, in file order."""
    good: list[Timeline] = []
    skipped: list[Skipped] = []
    try:
        for n, item in enumerate(read_timelines(path, options.columns, options.assume_tz)):
            if options.limit is not None and n >= options.limit:
                break
            (good if isinstance(item, Timeline) else skipped).append(item)  # type: ignore
    except (OSError, EOFError, ValueError) as error:  # unreadable file, broken gzip, header
        raise InvalidInput({"path": f"cannot read {path}: {error}"}) from None
    return good, skipped


def replay(path: str | Path, options: ReplayOptions, progress: Progress | None = None) -> Report:
    """Replay the file into a fresh store and report what the product decided."""
    started = time.perf_counter()
    timelines, skipped = load(path, options)
    if not timelines:
        raise InvalidInput({"path": f"no replayable rows in {path} ({len(skipped)} skipped)"})
    clock = ManualClock(floor_to(min(t.purchased_at for t in timelines), options.window))
    ctx = build_context(options.database_url, clock, approve_everything)
    try:
        events = merged(timelines, ctx.timeouts.hold if options.pending_payments else None)
        _require_empty(ctx)
        _stock_up(ctx, timelines)
        kind = BulkDriver if options.bulk else ServiceDriver
        driver = kind(ctx, clock, {t.ref: t for t in timelines})
        sweeps = _drive(ctx, clock, driver, events, options, progress or (lambda _a, _b: None))
        return build_report(ctx, str(path), timelines, skipped, driver, sweeps,
                            time.perf_counter() - started, "bulk" if options.bulk else "service")
    finally:
        ctx.close()


def _drive(ctx: Context, clock: ManualClock, driver: BaseDriver, events: list[Event],
           options: ReplayOptions, progress: Progress) -> Counter[str]:
    sweeps: Counter[str] = Counter()
    start, i, t = time.perf_counter(), 0, clock.now()
    first, end = t, events[-1].at + options.tail
    while i < len(events) or (t <= end and _earliest_due(ctx) is not None):
        until = _next_sweep(ctx, driver, events, i, t, options)
        j = i
        while j < len(events) and events[j].at < until:
            j += 1
        if j != i:
            driver.apply(events[i:j])
            progress(j, len(events))
        t, i = until, j
        clock.set(t)
        sweeps.update(sweep(ctx, t, ctx.settings.sweep_batch))
        _pace(options.speed, start, (t - first).total_seconds())
    return sweeps


def _next_sweep(ctx: Context, driver: BaseDriver, events: list[Event], i: int, t: datetime,
                options: ReplayOptions) -> datetime:
    """Hourly (every window), or as late as `schedule.batch_end` proves to be exact."""
    if not options.batching:
        return t + options.window
    return batch_end(t, events, i, options.window, ctx.timeouts, _earliest_firing(ctx, driver,
                                                                                    options),
                     driver.timelines, options.pending_payments)


def _earliest_firing(ctx: Context, driver: BaseDriver, options: ReplayOptions
                     ) -> datetime | None:
    """The earliest stored deadline, ignoring holds and pending payments' deadlines that a
    payment (or a payment starting) will clear."""
    refs = driver.refs()
    with ctx.tx(readonly=True) as tx:
        for kind, order_id, due_at in ReplayStore(tx.connection).deadlines_by_due():
            if kind not in WAITING or not will_clear(
                    driver.timelines[refs[order_id]], DeadlineKind(kind), due_at,
                    options.pending_payments):
                return due_at
    return None


def _stock_up(ctx: Context, timelines: list[Timeline]) -> None:
    """Receive enough of every synthetic sku up front: the replay is not about stock-outs."""
    demand: Counter[tuple[str, str]] = Counter()
    for t in timelines:
        for line in basket(t.ref):
            demand[(line.sku, line.warehouse)] += line.quantity
    with ctx.tx() as tx:
        for (sku, warehouse), quantity in sorted(demand.items()):
            tx.stock.receive(sku, warehouse, quantity)


def _require_empty(ctx: Context) -> None:
    with ctx.tx(readonly=True) as tx:
        count = ReplayStore(tx.connection).order_count()
    if count:
        raise InvalidInput({"db": f"the store already holds {count} orders; replay into a "
                                  "fresh database"})


def _earliest_due(ctx: Context) -> datetime | None:
    with ctx.tx(readonly=True) as tx:
        return ReplayStore(tx.connection).earliest_due()


def _pace(speed: float, started: float, simulated_seconds: float) -> None:
    if speed > 0:
        ahead = simulated_seconds / speed - (time.perf_counter() - started)
        if ahead > 0:
            time.sleep(ahead)
