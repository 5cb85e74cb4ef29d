"""Checking issue 10's rule in a test: one call writes one time. The shop's clock (a
TickingClock) ticks on every read while the call runs; the times the call wrote or changed, in
every time column of the store, must be one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pprint import pformat
from typing import Any

from sqlalchemy import select

from integrations.db.base import UtcDateTime
from integrations.db.schema import Base
from orderpilot import OrderPilot

# times that are not the call's own: a provider's, or deadlines reckoned from it
NOT_NOW = {"webhook_events.occurred_at", "deadlines.due_at", "orders.hold_expires_at",
           "disputes.evidence_due_by", "shipments.promised_by", "review_tasks.due_at",
           "verification_challenges.expires_at", "risk_blacklist_entries.expires_at",
           "webhook_deliveries.next_attempt_at", "waves.cutoff_at",
           "risk_buyer_profiles.signed_up_at"}


def stamps(pilot: OrderPilot) -> dict[tuple[str, tuple], dict[str, datetime | None]]:
    """Every time in the store: (table, primary key) → {column: value}."""
    rows: dict[tuple[str, tuple], dict[str, datetime | None]] = {}
    with pilot.context.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            times = [c for c in table.columns if isinstance(c.type, UtcDateTime)]
            if not times:
                continue
            keys = list(table.primary_key.columns)
            for row in conn.execute(select(*keys, *times)):
                rows[(table.name, tuple(row[:len(keys)]))] = dict(
                    zip([c.name for c in times], row[len(keys):], strict=True))
    return rows


def written(before: dict, after: dict, since: datetime) -> dict[str, set[datetime]]:
    """The times the call wrote: `table.column` → the values new or changed in it, from
    `since` on (an older one is a time copied from a row written before: a hold split)."""
    found: dict[str, set[datetime]] = {}
    for (table, key), columns in after.items():
        old = before.get((table, key), {})
        for column, value in columns.items():
            name = f"{table}.{column}"
            if value is not None and value >= since and value != old.get(column) \
                    and name not in NOT_NOW:
                found.setdefault(name, set()).add(value)
    return found


def one_time(pilot: OrderPilot, call: Callable[[], Any]) -> tuple[Any, dict[str, set]]:
    """Run one call on a ticking clock; (its answer, the times it wrote), checked one."""
    before = stamps(pilot)
    since = pilot.clock.advance(minutes=1)  # a row the call rewrites changes, whatever it was
    with pilot.clock.ticking():
        answer = call()
    times = written(before, stamps(pilot), since)
    assert len(set().union(*times.values())) == 1, pformat(times)
    return answer, times
