"""Benchmark `decide`: 100k decisions with the default rule set and warm signals.

    python bench/risk.py [N]

Signals are pre-built (as the adapter would hand them over), varied so every stage of the
engine is exercised: allow lane, hard blocks, both score bands, review rules and plain approval.
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

if not __package__:  # run as `python bench/risk.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from integrations.risk.config import default_ruleset  # noqa: E402
from statemachine.risk import RiskSignals, decide  # noqa: E402
from statemachine.risk_port import PlacedLine, PlacementFacts  # noqa: E402

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _case(i: int) -> tuple[PlacementFacts, RiskSignals]:
    facts = PlacementFacts(
        f"o-{i}", f"b-{i % 997}", 1_000 + (i * 37) % 700_000, "EUR",
        (PlacedLine("sku-1", 1 + i % 15, 1_000),), {"line1": f"{i % 90} Main Street",
                                                   "city": "Leeds"},
        NOW, device_id=f"d-{i % 503}", ip=f"198.51.100.{i % 250}")
    signals = RiskSignals(
        account_created_at=NOW - timedelta(seconds=(i * 7919) % 10_000_000),
        velocity={"buyer": i % 7, "device": i % 4, "ip": i % 3, "address": i % 2},
        blacklist_hits=("device",) if i % 101 == 0 else (), sku_bought_today={"sku-1": i % 3},
        address_changes=i % 5, orders_total=i % 12, orders_cancelled=i % 4,
        orders_completed=i % 9, disputes=i % 2, credit_score=100 - i % 50,
        device_other_buyers=i % 3, ip_other_buyers=i % 2, buyer_mean_amount=2_000.0)
    return facts, signals


def run(n: int) -> dict[str, float]:
    """Time n decisions one by one; returns throughput and latency percentiles."""
    ruleset, cases = default_ruleset(), [_case(i) for i in range(1_000)]
    for facts, signals in cases:  # warm-up
        decide(facts, signals, ruleset)
    latencies, clock = [], time.perf_counter_ns
    gc.disable()
    start = clock()
    for i in range(n):
        facts, signals = cases[i % 1_000]
        t0 = clock()
        decide(facts, signals, ruleset)
        latencies.append(clock() - t0)
    total = (clock() - start) / 1e9
    gc.enable()
    q = statistics.quantiles(latencies, n=100)
    return {"decisions": n, "seconds": round(total, 3), "decisions_per_s": round(n / total),
            "p50_us": round(q[49] / 1e3, 2), "p99_us": round(q[98] / 1e3, 2),
            "max_us": round(max(latencies) / 1e3, 2)}


def main() -> None:
    """Print a table and one JSON line."""
    result = run(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
    for key, value in result.items():
        print(f"{key:>16} {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
