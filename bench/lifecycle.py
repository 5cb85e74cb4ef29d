"""Lifecycle throughput against the raw sqlite3 limit, and sweeps at scale.

    python bench/lifecycle.py [--orders N] [--sweep-orders N] [--sweep-due N] [--json PATH]

(a) orders/s through the full happy path via the Python API on a SQLite file;
(b) the raw limit: plain sqlite3 doing the same number of transactions, each one
    version-checked UPDATE + history INSERT, on the same pragmas (WAL, synchronous=NORMAL);
(c) a / b.  Then `pilot.sweep` over a large orders table with a given number of due holds,
timed in a fresh process whose peak RSS is reported. Everything runs in this one invocation,
so the ratio compares like with like on a shared, noisy machine.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

if not __package__:  # run as `python bench/lifecycle.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from integrations.db.engine import SQLITE_PRAGMAS  # noqa: E402
from orderpilot import ManualClock, OrderPilot  # noqa: E402
from statemachine.risk_port import approve_everything  # noqa: E402

ADDRESS = {"street": "18 Wensan Road", "city": "Hangzhou"}
API_CALLS_PER_ORDER = 8  # place, pay, start_picking, pack, ship, pick_up, deliver, close
T0 = datetime(2026, 11, 11, tzinfo=UTC)


def happy_path(pilot: OrderPilot, n: int) -> int:
    """Drive one order from placement to completion; returns history rows written."""
    order = pilot.orders.place(buyer_id=f"b-{n % 500}", shipping_address=ADDRESS,
                               lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": 1999}])
    pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"p-{n}")
    pilot.orders.fire(order.id, "start_picking")
    pilot.orders.fire(order.id, "pack")
    pilot.orders.fire(order.id, "ship")
    parcel = f"s-{n + 1}"
    pilot.shipments.fire(parcel, "pick_up")
    pilot.shipments.fire(parcel, "deliver")  # delivers the order too (last parcel)
    pilot.orders.fire(order.id, "close")
    return 11


class ApiPath:
    """Orders through the Python API on a SQLite file (risk check: approve, to time the core)."""

    def __init__(self, folder: Path, capacity: int):
        self.pilot = OrderPilot(f"sqlite:///{folder / 'api.db'}", risk_check=approve_everything)
        self.pilot.inventory.receive(sku="SKU-1", warehouse="WH-1", quantity=capacity + 10)
        self.next = 0
        self.run(1)  # warm up (statement caches, first-page allocation) before any timing

    def run(self, orders: int) -> float:
        start = time.perf_counter()
        for _ in range(orders):
            happy_path(self.pilot, self.next)
            self.next += 1
        return time.perf_counter() - start


class RawPath:
    """The floor cost of a state change: UPDATE … WHERE version = ? + INSERT history, committed,
    once per API call of the happy path, with the store's own pragmas."""

    def __init__(self, folder: Path, capacity: int):
        self.db = sqlite3.connect(folder / "raw.db", isolation_level=None)
        for pragma in SQLITE_PRAGMAS:  # the same pragmas as the store's own engine
            self.db.execute(f"PRAGMA {pragma}")
        self.db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, state TEXT, version INT)")
        self.db.execute("CREATE TABLE history (id INTEGER PRIMARY KEY, order_id INTEGER, "
                        "trigger TEXT, from_state TEXT, to_state TEXT, actor TEXT, at TEXT)")
        self.db.executemany("INSERT INTO orders VALUES (?, 'created', 1)",
                            [(i,) for i in range(capacity + 1)])
        self.next = 0
        self.run(1)

    def run(self, orders: int) -> float:
        db, start = self.db, time.perf_counter()
        for i in range(self.next, self.next + orders):
            for version in range(1, API_CALLS_PER_ORDER + 1):
                db.execute("BEGIN IMMEDIATE")
                cur = db.execute("UPDATE orders SET state = ?, version = version + 1 "
                                 "WHERE id = ? AND version = ?", (f"s{version}", i, version))
                assert cur.rowcount == 1
                db.execute("INSERT INTO history (order_id, trigger, from_state, to_state, "
                           "actor, at) VALUES (?, ?, ?, ?, ?, ?)",
                           (i, "t", "a", "b", "bench", datetime.now(UTC).isoformat()))
                db.execute("COMMIT")
        self.next += orders
        return time.perf_counter() - start


def bench_throughput(folder: Path, orders: int, rounds: int) -> dict:
    """Alternate API and raw rounds so both see the same machine load; report each round."""
    api, raw = ApiPath(folder, orders), RawPath(folder, orders)
    per_round = max(1, orders // rounds)
    results = []
    for _ in range(rounds):
        api_s, raw_s = api.run(per_round), raw.run(per_round)
        results.append({"api_orders_per_s": per_round / api_s,
                        "raw_orders_per_s": per_round / raw_s, "ratio": raw_s / api_s})
    api.pilot.close()
    ratios = sorted(r["ratio"] for r in results)
    return {"orders_per_round": per_round, "rounds": results,
            "api_orders_per_s": statistics.median(r["api_orders_per_s"] for r in results),
            "raw_orders_per_s": statistics.median(r["raw_orders_per_s"] for r in results),
            "ratio_median": statistics.median(ratios), "ratio_min": ratios[0],
            "ratio_max": ratios[-1], "api_calls_per_order": API_CALLS_PER_ORDER,
            "history_rows_per_order": 11}


def _ts(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # how the store keeps UTC


def build_sweep_db(path: Path, orders: int, due: int, waiting: int) -> None:
    """`orders` orders, `waiting` of them awaiting payment with a live hold, `due` of those due."""
    OrderPilot(f"sqlite:///{path}", risk_check=approve_everything).close()  # schema
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("BEGIN")
    db.execute("INSERT INTO buyers VALUES ('b-1', ?, 100)", (_ts(T0),))
    db.execute("INSERT INTO inventory VALUES ('SKU-1', 'WH-1', ?, ?)", (orders, waiting))
    t0, soon, later = _ts(T0), T0 + timedelta(minutes=20), T0 + timedelta(days=1)
    db.executemany(
        "INSERT INTO orders (id, buyer_id, state, version, currency, total, paid, refunded, "
        "hold_expires_at, attrs, created_at, updated_at) VALUES (?, 'b-1', ?, 2, 'CNY', 1999, "
        "0, 0, ?, '{}', ?, ?)",
        ((i, "awaiting_payment" if i <= waiting else "completed",
          _ts(soon if i <= due else later) if i <= waiting else None, t0, t0)
         for i in range(1, orders + 1)))
    db.executemany("INSERT INTO stock_holds (order_id, line_no, sku, warehouse, quantity, status,"
                   " created_at) VALUES (?, 1, 'SKU-1', 'WH-1', 1, 'held', ?)",
                   ((i, t0) for i in range(1, waiting + 1)))
    db.executemany("INSERT INTO deadlines (kind, entity, entity_id, order_id, due_at) "
                   "VALUES ('hold_expiry', 'order', ?, ?, ?)",
                   ((i, i, _ts(soon if i <= due else later)) for i in range(1, waiting + 1)))
    db.execute("COMMIT")
    db.close()


def _sweep_child(url: str, queue: mp.Queue) -> None:
    pilot = OrderPilot(url, clock=ManualClock(T0 + timedelta(minutes=21)),
                       risk_check=approve_everything)
    start = time.perf_counter()
    counts = pilot.sweep()
    elapsed = time.perf_counter() - start
    drift = len(pilot.inventory.reconcile())
    queue.put({"seconds": elapsed, "counts": counts, "drift_after": drift,
               "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def bench_sweep(folder: Path, orders: int, due: int) -> dict:
    """Time one sweep in a fresh process (so its peak RSS is the sweep's own)."""
    path = folder / f"sweep-{orders}.db"
    start = time.perf_counter()
    build_sweep_db(path, orders, due, waiting=max(due, orders // 5))
    built = time.perf_counter() - start
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_sweep_child, args=(f"sqlite:///{path}", queue))
    child.start()
    result = queue.get(timeout=600)
    child.join()
    return {"orders": orders, "due": due, "build_seconds": built, **result}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sweep-orders", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--sweep-due", type=int, default=10_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="orderpilot-bench-") as tmp:
        folder = Path(tmp)
        throughput = bench_throughput(folder, args.orders, args.rounds)
        sweeps = [bench_sweep(folder, n, min(args.sweep_due, n // 5)) for n in args.sweep_orders]
    result = {"benchmark": "lifecycle", "throughput": throughput, "sweeps": sweeps}
    _print(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return result


def _print(result: dict) -> None:
    console = Console()
    t = result["throughput"]
    table = Table("round", "API orders/s", "raw orders/s", "API / raw",
                  title=f"happy path, SQLite file ({t['orders_per_round']} orders per round, "
                        f"{API_CALLS_PER_ORDER} transactions per order)")
    for n, r in enumerate(t["rounds"], start=1):
        table.add_row(str(n), f"{r['api_orders_per_s']:.0f}", f"{r['raw_orders_per_s']:.0f}",
                      f"{r['ratio']:.1%}")
    console.print(table)
    console.print(f"API / raw: median {t['ratio_median']:.1%} (range {t['ratio_min']:.1%}–"
                  f"{t['ratio_max']:.1%}); target ≥ 25%")
    sweeps = Table("orders", "due", "sweep s", "peak RSS MB", "fired", title="sweep at scale")
    for s in result["sweeps"]:
        sweeps.add_row(str(s["orders"]), str(s["due"]), f"{s['seconds']:.3f}",
                       f"{s['peak_rss_mb']:.0f}", json.dumps(s["counts"]))
    console.print(sweeps)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
