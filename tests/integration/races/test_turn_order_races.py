"""Turns (PostgreSQL advisory locks, integrations/db/turns.py) are taken in one order by every
caller — the order of the locks themselves, not of the names they are made from: two names
whose locks are one (PostgreSQL's 32-bit `hashtext` collides on any ~77,000 names more likely
than not) must not let two callers take the same locks in opposite orders."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.integration.races.conftest import Race

# SQLite's writers take turns anyway: no lock to order; ~1 min (a pool of processes)
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def pg_race(race_pool, postgres_url: str) -> Iterator[Race]:
    r = Race(race_pool, postgres_url)
    yield r
    r.close()


def hashtext_twins(url: str) -> tuple[str, str, str]:
    """Three phone turns a < b < c (by name) where hashtext(a) = hashtext(c): found on this
    server (the hash depends on its platform), among 400,000 numbers."""
    with psycopg.connect(url) as connection:
        a, c = connection.execute(
            "SELECT min(n), max(n) FROM (SELECT 'placing:phone:+86 138 ' || lpad(g::text, 8, "
            "'0') AS n FROM generate_series(0, 400000) g) s GROUP BY hashtext(n) "
            "HAVING count(*) = 2 ORDER BY min(n) LIMIT 1").fetchone()
        b = a[:-1] + chr(ord(a[-1]) + 1) if a[-1] != "9" else a + "5"
        assert a < b < c
        same, other = connection.execute("SELECT hashtext(%s) = hashtext(%s), "
                                         "hashtext(%s) = hashtext(%s)", (a, c, a, b)).fetchone()
    assert same and not other
    return a, b, c


def test_two_placements_sharing_a_turn_never_wait_in_a_circle_when_two_names_hash_alike(
        pg_race):
    # Given three phone numbers a < b < c whose first and last hash alike in PostgreSQL
    a, b, c = hashtext_twins(pg_race.url)
    pg_race.open()
    # When a placement holding b's turn commits after another asked for (b, c) and a third
    # for (a, b) — the one that asked for (a, b) got a's lock before it waited for b's
    outcomes = pg_race.run(
        ("hold_turns_until", {"names": [b], "waiting": 2}),
        ("take_turns_when", {"names": [b, c], "held": 1, "waiting": 0}),
        ("take_turns_when", {"names": [a, b], "held": 1, "waiting": 1}))
    # Then all three commit, and none waited on another in a circle: taken in name order,
    # (b, c) got b's lock and waited for c's — a's, held by (a, b), waiting for b's
    assert [o.result for o in outcomes] == ["committed"] * 3, outcomes
    assert pg_race.deadlocks() == 0
