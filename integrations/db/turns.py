"""Turns: named waits between transactions, held until commit (PostgreSQL advisory locks).

A turn's lock is a 64-bit key made from its name here, in Python (`turn_key`), and one caller's
turns are taken in one statement in ascending *key* order, the same order for every caller: the
order that matters is that of the locks themselves. Keyed by PostgreSQL's `hashtext` (32 bits)
and taken in *name* order before, two names whose hashes collided made the lock order
inconsistent: a placement taking turns (a, b) and another taking (b, c), with hashtext(a) =
hashtext(c) and a < b < c, each held one lock the other wanted (tests/integration/races/
test_turn_order_races.py; any ~77,000 names — phones, IP addresses — hold such a pair more
likely than not). Sorted by key, equal keys are one lock taken once; 64 bits also keep apart
the turns of different kinds (placing, waybill, Shopify order, pick wave) and the fixed keys of
webhooks.CLAIM_LOCK and migrate.UPGRADE_LOCK, which hashtext's 32 bits did not.
SQLite's writers take turns anyway (`BEGIN IMMEDIATE`): nothing is taken there.
"""

from __future__ import annotations

from collections.abc import Iterable
from hashlib import blake2b

from integrations.db.sql import Sql


def turn_key(name: str) -> int:
    """The advisory lock key of a turn: the name's BLAKE2b digest as a signed 64-bit integer
    (PostgreSQL's bigint), the same in every process and on every server."""
    return int.from_bytes(blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def take(sql: Sql, keys: Iterable[int]) -> list[int]:
    """Wait for these turns (keys) until commit, in ascending key order, in one statement;
    returns the keys taken (none on SQLite)."""
    ordered = sorted(set(keys))
    if sql.sqlite or not ordered:
        return []
    locks = ", ".join(f"pg_advisory_xact_lock(:k{n})" for n in range(len(ordered)))
    sql.run(f"SELECT {locks}", {f"k{n}": key for n, key in enumerate(ordered)})
    return ordered
