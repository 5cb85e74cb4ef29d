"""Placement cost against the length of one buyer's history (issue 10: signals from counters).

    python bench/risk_history.py [ORDERS] [--postgres URL] [--out bench/results/risk_history.json]

One buyer places ORDERS orders (default 4,000) through `pilot.orders.place` with the default
rule set, 15 minutes apart (so every order is approved and the velocity rule stays quiet);
every tenth is cancelled by the buyer so the outcome counters move too. Beside it, in the same
run, a fresh buyer per order places the same orders: the baseline whose cost cannot depend on
history. Reported: median placement time of the first and last 200 orders of each, and the
ratio last / first (1.0 = flat in history size).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

if not __package__:  # run as `python bench/risk_history.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orderpilot import ManualClock, OrderPilot  # noqa: E402

WINDOW = 200
ADDRESS = {"province": "浙江省", "city": "杭州市", "district": "西湖区",
           "street": "文三路18号3单元"}


def _request(buyer: str, n: int) -> dict:
    return {"buyer_id": buyer, "device_id": f"d-{buyer}", "ip": f"10.{n // 250 % 250}.{n % 250}.9",
            "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": 1999}],
            "shipping_address": ADDRESS, "phone": "13800138000"}


def place_series(url: str, orders: int, same_buyer: bool) -> list[float]:
    """Milliseconds per placement, in order."""
    clock = ManualClock(datetime(2026, 11, 11, tzinfo=UTC))
    pilot = OrderPilot(url, clock=clock)
    pilot.inventory.receive(sku="SKU-1", warehouse="WH-1", quantity=10_000_000)
    times = []
    for n in range(orders):
        clock.advance(minutes=15)
        buyer = "b-loyal" if same_buyer else f"b-{n}"
        start = time.perf_counter()
        order = pilot.orders.place(**_request(buyer, n))
        times.append((time.perf_counter() - start) * 1000)
        if n % 10 == 9 and order.state == "awaiting_payment":
            pilot.orders.fire(order.id, "cancel", actor=buyer, reason="changed my mind")
    pilot.close()
    return times


def summary(times: list[float]) -> dict[str, float]:
    first = statistics.median(times[:WINDOW])
    last = statistics.median(times[-WINDOW:])
    return {"first_p50_ms": round(first, 3), "last_p50_ms": round(last, 3),
            "ratio_last_to_first": round(last / first, 3)}


def main(argv: list[str]) -> dict:
    orders = int(argv[0]) if argv and argv[0].isdigit() else 4000
    pg = argv[argv.index("--postgres") + 1] if "--postgres" in argv else None
    results = {"orders": orders, "store": "postgresql" if pg else "sqlite"}
    for name, same in (("one_buyer", True), ("fresh_buyers", False)):
        with tempfile.TemporaryDirectory() as tmp:
            url = pg or f"sqlite:///{tmp}/bench.db"
            if pg:
                _reset(pg)
            results[name] = summary(place_series(url, orders, same))
    print(json.dumps(results, indent=2))
    if "--out" in argv:
        Path(argv[argv.index("--out") + 1]).write_text(json.dumps(results, indent=2) + "\n")
    return results


def _reset(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
