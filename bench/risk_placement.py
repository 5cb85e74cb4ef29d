"""Placement latency with the rule-set risk check (signals by SQL) vs approving everything.

    python bench/risk_placement.py [HISTORY] [N] [--postgres URL]

Fills a fresh store with HISTORY earlier orders (2,000 buyers, shared devices now and then),
then times N more placements through `pilot.orders.place` with each risk check.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

if not __package__:  # run as `python bench/risk_placement.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orderpilot import ManualClock, OrderPilot  # noqa: E402
from statemachine.risk_port import approve_everything  # noqa: E402


def _request(i: int) -> dict:
    buyer = i % 2000
    return {"buyer_id": f"b-{buyer}", "device_id": f"d-{buyer if i % 50 else buyer + 1}",
            "ip": f"10.{buyer // 250}.{buyer % 250}.1",
            "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": 1999}],
            "shipping_address": {"street": f"{buyer} Wensan Rd", "city": "Hangzhou"}}


def run(url: str, history: int, n: int, risk_check) -> dict[str, float]:
    clock = ManualClock(datetime(2026, 11, 11, tzinfo=UTC))
    pilot = OrderPilot(url, clock=clock, risk_check=risk_check)
    pilot.inventory.receive(sku="SKU-1", warehouse="WH-1", quantity=10_000_000)
    for i in range(history):
        clock.advance(seconds=3)
        pilot.orders.place(**_request(i))
    times = []
    for i in range(history, history + n):
        clock.advance(seconds=3)
        start = time.perf_counter()
        pilot.orders.place(**_request(i))
        times.append((time.perf_counter() - start) * 1000)
    pilot.close()
    times.sort()
    return {"p50_ms": round(statistics.median(times), 2),
            "p99_ms": round(times[int(len(times) * 0.99) - 1], 2),
            "mean_ms": round(statistics.fmean(times), 2)}


def main(argv: list[str]) -> None:
    history = int(argv[0]) if argv else 5000
    n = int(argv[1]) if len(argv) > 1 else 500
    pg = argv[argv.index("--postgres") + 1] if "--postgres" in argv else None
    results = {}
    for name, check in (("approve_everything", approve_everything), ("rule_set", None)):
        with tempfile.TemporaryDirectory() as tmp:
            url = pg or f"sqlite:///{tmp}/bench.db"
            results[name] = run(url, history, n, check)
    print(json.dumps({"history": history, "placements": n, **results}, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
