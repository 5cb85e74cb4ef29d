"""Is velocity by phone flat in the phones' history? (phone_velocity: index ranges over its
window, never a history scan)

    python bench/risk_phone_window.py [HISTORY] [--postgres URL] [--out FILE]

One fresh store (SQLite file, or a PostgreSQL database that is emptied first) holds two pairs
of ring numbers, each number with 96 orders of 96 different buyers in the last day (one every
15 minutes), half of them giving it as the buyer's phone (`phone_norm`) and half as the
recipient's other number (`recipient_phone_norm`): the 'old' pair also has HISTORY earlier
orders per number (96 a day going back, the same halves), the 'young' pair none. Placement's
profile statement — the one round trip that also counts the other buyers on each of the
order's two numbers, over both columns — is timed for an order with the old pair and one with
the young pair, taking turns, 300 times; then, for scale, the same statement with the window
opened to the whole history (what a history scan would cost). In the same turns, the statement
as it was before (0031: one number, `phone_norm` only) for the old pair's first number, and
today's for that number alone (an order whose buyer and recipient share one number, or that
has one: most orders). Reported: medians and the ratios old / young (1.0 = flat), two numbers
today / one before, one number today / before, scan / young.
Also in the same turns, the cuts tried on the two-number statement: an order with one number
(or none) counting only what it has, against the two-count statement with '' for the missing
number (what placement ran before: `one_number_cut_over_uncut`, `no_number_cut_over_uncut`);
and both numbers counted in one query (one pass over both columns for both numbers,
`count(DISTINCT CASE …)` per number) against the two counts (`both_in_one_query_over_two`).
The facts rows are written directly (foreign keys off on SQLite): this measures the read, not
placement.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

if not __package__:  # run as `python bench/risk_phone_window.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from integrations.db.risk_signals import (  # noqa: E402
    PHONE_OTHERS,
    PROFILE_BY_NUMBERS,
    PROFILE_SQL,
)
from integrations.db.schema_risk import RiskOrderFactsRow  # noqa: E402
from integrations.db.sql import Sql  # noqa: E402
from orderpilot import ManualClock, OrderPilot  # noqa: E402

NOW = datetime(2026, 11, 11, tzinfo=UTC)
OLD, YOUNG = ("+8613700137000", "+8613600136000"), ("+8613900139000", "+8613500135000")
DAY = timedelta(days=1)


def _placed(phone: str, buyer: str, k: int, at: datetime) -> dict:
    """An order carrying `phone`: as the buyer's number on even `k`, on odd as the recipient's
    beside the buyer's own (a number of no ring)."""
    own = f"+86186{k % 10**8:08d}"
    phones = (phone, None) if k % 2 == 0 else (own, phone)
    return {"buyer_id": buyer, "phone_norm": phones[0], "recipient_phone_norm": phones[1],
            "amount": 1999, "currency": "CNY", "placed_at": at}


def _facts(history: int) -> list[dict]:
    rows = []
    for phone in OLD:
        rows += [_placed(phone, f"b-old-{phone}-{k}", k,
                         NOW - DAY - timedelta(minutes=15 * (k + 1))) for k in range(history)]
    for phone in (*OLD, *YOUNG):
        rows += [_placed(phone, f"b-{phone}-{k}", k, NOW - timedelta(minutes=15 * k))
                 for k in range(96)]
    return [{"order_id": n, **row} for n, row in enumerate(rows, 1)]


def _fill(pilot: OrderPilot, history: int) -> None:
    table = RiskOrderFactsRow.__table__
    raw = pilot.context.engine.raw_connection()  # the pragma must precede any transaction
    try:
        if pilot.context.engine.dialect.name == "sqlite":
            raw.execute("PRAGMA foreign_keys=OFF")
        raw.commit()
    finally:
        raw.close()
    with pilot.context.engine.begin() as conn:
        if conn.dialect.name != "sqlite":  # PostgreSQL: the facts' order ids name no order
            conn.execute(text("ALTER TABLE risk_order_facts DROP CONSTRAINT IF EXISTS "
                              "fk_risk_order_facts_order_id_orders"))
        conn.execute(table.insert(), _facts(history))
        if conn.dialect.name != "sqlite":
            conn.execute(text("ANALYZE risk_order_facts"))


# The profile statement as it was before the recipient's number was kept (migration 0031): one
# number, one column. Timed in turns with today's for the cost of counting two numbers in both.
ONE_NUMBER_SQL = PROFILE_SQL.replace(
    PHONE_OTHERS.format(p="p1") + ",\n" + PHONE_OTHERS.format(p="p2"),
    "(SELECT count(DISTINCT buyer_id) FROM risk_order_facts WHERE phone_norm = :p1 "
    "AND placed_at > :phone_since AND placed_at <= :now AND buyer_id <> :b AND order_id <> :o)")
assert ONE_NUMBER_SQL != PROFILE_SQL
# Both numbers in one query: one multi-index pass over the two columns, each number's other
# buyers counted by its own count(DISTINCT CASE …). Tried as a cut; timed against the two counts.
BOTH_IN_ONE_SQL = PROFILE_SQL.replace(
    PHONE_OTHERS.format(p="p1") + ",\n" + PHONE_OTHERS.format(p="p2"), "ph.n1, ph.n2"
).replace("FROM (SELECT 1 AS one) AS x", """FROM (SELECT 1 AS one) AS x
CROSS JOIN (SELECT
   count(DISTINCT CASE WHEN :p1 IN (phone_norm, recipient_phone_norm) THEN buyer_id END) AS n1,
   count(DISTINCT CASE WHEN :p2 IN (phone_norm, recipient_phone_norm) THEN buyer_id END) AS n2
 FROM risk_order_facts
 WHERE ((phone_norm IN (:p1, :p2) AND placed_at > :phone_since AND placed_at <= :now)
   OR (recipient_phone_norm IN (:p1, :p2) AND placed_at > :phone_since AND placed_at <= :now))
   AND buyer_id <> :b AND order_id <> :o) AS ph""")
assert "ph.n1" in BOTH_IN_ONE_SQL and "CROSS JOIN" in BOTH_IN_ONE_SQL


def _params(phones: tuple[str, str], since: datetime) -> dict:
    return {"b": "b-new", "d": None, "ip": None, "c": "CNY", "a": "",
            "since": NOW - 30 * DAY, "p1": phones[0], "p2": phones[1], "phone_since": since,
            "now": NOW, "o": 0}


def _time(sql: Sql, phones: tuple[str, str], since: datetime,
          statement: str = PROFILE_SQL) -> float:
    start = time.perf_counter()
    sql.one(statement, _params(phones, since))
    return (time.perf_counter() - start) * 1e6


def measure(url: str, history: int) -> dict:
    pilot = OrderPilot(url, clock=ManualClock(NOW))
    _fill(pilot, history)
    with pilot.context.engine.connect() as conn:
        sql = Sql(conn)
        for pair in (OLD, YOUNG):  # each number counts the 96 other buyers of its window
            for statement in (PROFILE_SQL, BOTH_IN_ONE_SQL):
                assert tuple(sql.one(statement, _params(pair, NOW - DAY))[13:15]) == (96, 96)
        one_number, no_number = (OLD[0], ""), ("", "")
        assert sql.one(PROFILE_BY_NUMBERS[1], _params(one_number, NOW - DAY))[13] == 96
        old, young, one, single, uncut, both, none, none_uncut = ([] for _ in range(8))
        for _ in range(300):
            old.append(_time(sql, OLD, NOW - DAY))
            young.append(_time(sql, YOUNG, NOW - DAY))
            one.append(_time(sql, OLD, NOW - DAY, ONE_NUMBER_SQL))
            # most orders: one number, counted alone (today) or beside an empty second count
            single.append(_time(sql, one_number, NOW - DAY, PROFILE_BY_NUMBERS[1]))
            uncut.append(_time(sql, one_number, NOW - DAY))
            both.append(_time(sql, OLD, NOW - DAY, BOTH_IN_ONE_SQL))
            none.append(_time(sql, no_number, NOW - DAY, PROFILE_BY_NUMBERS[0]))
            none_uncut.append(_time(sql, no_number, NOW - DAY))
        # the scan last and alone: it evicts the cache the two above share
        scan = [_time(sql, OLD, NOW - 10_000 * DAY) for _ in range(10)]
    pilot.close()
    o, y, s, b, n = (statistics.median(v) for v in (old, young, scan, one, single))
    u, two_in_one, z, zu = (statistics.median(v) for v in (uncut, both, none, none_uncut))
    return {"history": history, "store": "postgresql" if url.startswith("postgres") else "sqlite",
            "old_phone_p50_us": round(o, 1), "young_phone_p50_us": round(y, 1),
            "one_number_statement_p50_us": round(b, 1),
            "whole_history_scan_p50_us": round(s, 1), "old_over_young": round(o / y, 3),
            "one_number_now_p50_us": round(n, 1), "two_numbers_over_one": round(o / b, 3),
            "one_number_now_over_before": round(n / b, 3), "scan_over_young": round(s / y, 1),
            "one_number_uncut_p50_us": round(u, 1), "one_number_cut_over_uncut": round(n / u, 3),
            "no_number_p50_us": round(z, 1), "no_number_cut_over_uncut": round(z / zu, 3),
            "both_in_one_query_p50_us": round(two_in_one, 1),
            "both_in_one_query_over_two": round(two_in_one / o, 3)}


def main(argv: list[str]) -> list[dict]:
    history = int(argv[0]) if argv and argv[0].isdigit() else 100_000
    pg = argv[argv.index("--postgres") + 1] if "--postgres" in argv else None
    results = []
    for size in (1_000, history):
        if pg:
            from bench.risk_history import _reset

            _reset(pg)
            url = pg
        else:
            import tempfile

            url = f"sqlite:///{tempfile.mkdtemp()}/phone.db"
        results.append(measure(url, size))
    print(json.dumps(results, indent=2))
    if "--out" in argv:
        Path(argv[argv.index("--out") + 1]).write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
