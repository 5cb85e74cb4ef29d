"""Timestamps as the hot path writes and reads them: the fast forms give the text and the
instants the plain `isoformat` / `fromisoformat(...).replace(tzinfo=UTC)` gave."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from integrations.db.sql import Sql, _sqlite_ts, iso_utc

SHANGHAI = timezone(timedelta(hours=8))


def _instants() -> list[datetime]:
    draw = random.Random(7)
    start = datetime(1990, 1, 1, tzinfo=UTC)
    found = [start + timedelta(seconds=draw.randrange(0, 2_000_000_000),
                               microseconds=draw.choice([0, 1, 999_999, 1_000, 100_000,
                                                         draw.randrange(1_000_000)]))
             for _ in range(5_000)]
    return [*found, datetime(2026, 11, 11, tzinfo=UTC), datetime(2026, 11, 11, 0, 0, 0, 1,
                                                                 tzinfo=UTC)]


def test_the_written_texts_are_isoformat_s_for_every_instant():
    for when in _instants():
        assert iso_utc(when) == when.isoformat()
        assert _sqlite_ts(when) == when.isoformat(" ", "microseconds")[:26]
        other = when.astimezone(SHANGHAI)  # another zone: the same instant, the same UTC text
        assert iso_utc(other) == other.isoformat()
        assert _sqlite_ts(other) == _sqlite_ts(when)


def test_a_stored_text_reads_back_as_the_aware_utc_instant_it_was():
    sql = Sql.__new__(Sql)  # `when` reads nothing of the connection
    for when in _instants():
        for text in (_sqlite_ts(when), when.isoformat(" ", "seconds").removesuffix("+00:00")):
            read = sql.when(text)
            assert read == datetime.fromisoformat(text).replace(tzinfo=UTC)
            assert read.tzinfo is UTC
    # other spellings still read as before (the text as UTC)
    assert sql.when("2026-11-11T08:00:00") == datetime(2026, 11, 11, 8, tzinfo=UTC)
    assert sql.when("2026-11-11 08:00:00.5") == datetime(2026, 11, 11, 8, 0, 0, 500_000,
                                                         tzinfo=UTC)
