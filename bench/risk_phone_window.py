"""Is velocity by phone flat in the phone's history? (phone_velocity: an index range over its
window, never a history scan)

    python bench/risk_phone_window.py [HISTORY] [--postgres URL] [--out FILE]

One fresh store (SQLite file, or a PostgreSQL database that is emptied first) holds two ring
phones, each with 96 orders of 96 different buyers in the last day (one every 15 minutes):
the 'old' phone also has HISTORY earlier orders (default 100,000, 96 a day going back), the
'young' one none. Placement's profile statement — the one round trip that now also counts the
other buyers on the order's phone — is timed for an order to each, taking turns, 300 times;
then, for scale, the same statement with the window opened to the whole history (what a
history scan would cost). Reported: medians and the ratios old / young (1.0 = flat) and
scan / young. The facts rows are written directly (foreign keys off on SQLite): this measures
the read, not placement.
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

from integrations.db.risk_signals import PROFILE_SQL  # noqa: E402
from integrations.db.schema_risk import RiskOrderFactsRow  # noqa: E402
from integrations.db.sql import Sql  # noqa: E402
from orderpilot import ManualClock, OrderPilot  # noqa: E402

NOW = datetime(2026, 11, 11, tzinfo=UTC)
OLD, YOUNG = "+8613700137000", "+8613900139000"
DAY = timedelta(days=1)


def _facts(history: int) -> list[dict]:
    rows = [(OLD, f"b-old-{k}", NOW - DAY - timedelta(minutes=15 * (k + 1)))
            for k in range(history)]
    for k in range(96):
        rows += [(OLD, f"b-o-{k}", NOW - timedelta(minutes=15 * k)),
                 (YOUNG, f"b-y-{k}", NOW - timedelta(minutes=15 * k))]
    return [{"order_id": n, "buyer_id": buyer, "phone_norm": phone, "amount": 1999,
             "currency": "CNY", "placed_at": at} for n, (phone, buyer, at) in enumerate(rows, 1)]


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


def _params(phone: str, since: datetime) -> dict:
    return {"b": "b-new", "d": None, "ip": None, "c": "CNY", "a": "",
            "since": NOW - 30 * DAY, "p": phone, "phone_since": since, "now": NOW, "o": 0}


def _time(sql: Sql, phone: str, since: datetime) -> float:
    start = time.perf_counter()
    sql.one(PROFILE_SQL, _params(phone, since))
    return (time.perf_counter() - start) * 1e6


def measure(url: str, history: int) -> dict:
    pilot = OrderPilot(url, clock=ManualClock(NOW))
    _fill(pilot, history)
    with pilot.context.engine.connect() as conn:
        sql = Sql(conn)
        for phone in (OLD, YOUNG):  # both count the 96 other buyers of their window
            assert sql.one(PROFILE_SQL, _params(phone, NOW - DAY))[13] == 96
        old, young = [], []
        for _ in range(300):
            old.append(_time(sql, OLD, NOW - DAY))
            young.append(_time(sql, YOUNG, NOW - DAY))
        # the scan last and alone: it evicts the cache the two above share
        scan = [_time(sql, OLD, NOW - 10_000 * DAY) for _ in range(10)]
    pilot.close()
    o, y, s = (statistics.median(v) for v in (old, young, scan))
    return {"history": history, "store": "postgresql" if url.startswith("postgres") else "sqlite",
            "old_phone_p50_us": round(o, 1), "young_phone_p50_us": round(y, 1),
            "whole_history_scan_p50_us": round(s, 1), "old_over_young": round(o / y, 3),
            "scan_over_young": round(s / y, 1)}


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
