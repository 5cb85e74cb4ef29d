"""Timestamps as merchants export them, read into timezone-aware UTC datetimes.

Accepted: ISO 8601 (`2017-10-02 10:56:33`, `2017-10-02T10:56:33Z`, with an offset, without
seconds, date only) and day-first `DD/MM/YYYY[ HH:MM[:SS]]` as Brazilian and most European
exports write it. A value with no offset is read in `assume_tz` (UTC unless told otherwise).
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

DAY_FIRST = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y")


def parse_when(text: str, assume_tz: tzinfo = UTC) -> datetime:
    """Parse one timestamp; ValueError if it is in none of the accepted formats."""
    value = text.strip()
    parsed = _iso(value) or _day_first(value)
    if parsed is None:
        raise ValueError(f"not a date: {text!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=assume_tz)
    return parsed.astimezone(UTC)


def _iso(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _day_first(value: str) -> datetime | None:
    for pattern in DAY_FIRST:
        try:
            return datetime.strptime(value, pattern)  # noqa: DTZ007 - zone added by the caller
        except ValueError:
            continue
    return None
