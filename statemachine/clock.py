"""Time is passed in. The domain never reads the wall clock; adapters and tests supply a Clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class ManualClock:
    """A clock that only moves when told to: for tests, replays and simulations."""

    def __init__(self, start: datetime):
        require_utc(start, "start")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        require_utc(when, "when")
        self._now = when

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now


def require_utc(value: datetime, name: str) -> datetime:
    """Refuse naive datetimes: every timestamp in orderpilot is timezone-aware UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (got naive {value.isoformat()})")
    return value.astimezone(UTC)
