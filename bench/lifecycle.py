"""The lifecycle's write path against raw sqlite3 and a naive ORM peer, as ratios in one run.

    python bench/lifecycle.py [--round-seconds S] [--rounds R] [--sweep-orders N ...]
                              [--sweep-due N] [--profile] [--json PATH]

(a) per transition: the 8-call happy path through the Python API (place, pay, start_picking,
    pack, ship, pick_up, deliver — which delivers the order too — close) against the raw floor:
    plain sqlite3 doing BEGIN IMMEDIATE, a version-checked UPDATE, a history INSERT and COMMIT
    per transition, on the store's pragmas;
(b) place + pay: the public API against raw sqlite3 writing exactly the same rows (same schema,
    same JSON documents, same two transactions per order) and against the naive peer a user
    would write first: the SQLAlchemy ORM plus a `transitions` Machine per loaded order;
(c) the sweep over a large orders table with a given number of due holds, in a fresh process
    whose peak RSS is reported.

Rounds run for a fixed time each (not a fixed count), alternating the paths, so every path
sees the same machine load and a round is long enough to be measured; the ratio of each
alternation is reported with its median and spread. `--profile` prints where the API path's
time goes (cProfile, grouped by layer). Nothing here is a test: figures to read.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing as mp
import pstats
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

if not __package__:  # run as `python bench/lifecycle.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.peers import NaivePeer, RawRows  # noqa: E402
from bench.sqlite_level import level  # noqa: E402
from integrations.db.engine import tune_sqlite_connection  # noqa: E402
from orderpilot import ManualClock, OrderPilot  # noqa: E402
from statemachine.risk_port import approve_everything  # noqa: E402

ADDRESS = {"street": "文三路 18 号", "city": "杭州市", "district": "西湖区", "province": "浙江省"}
API_CALLS_PER_ORDER = 8  # place, pay, start_picking, pack, ship, pick_up, deliver, close
T0 = datetime(2026, 11, 11, tzinfo=UTC)
SKU, WAREHOUSE, PRICE = "SKU-1", "WH-1", 1999


def happy_path(pilot: OrderPilot, n: int) -> None:
    """Drive one order from placement to completion through the public API."""
    order = pilot.orders.place(buyer_id=f"b-{n % 500}", shipping_address=ADDRESS,
                               lines=[{"sku": SKU, "quantity": 1, "unit_price": PRICE}])
    pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"p-{n}")
    pilot.orders.fire(order.id, "start_picking")
    pilot.orders.fire(order.id, "pack")
    pilot.orders.fire(order.id, "ship")
    parcel = f"s-{n + 1}"  # each order ships one parcel, numbered as the orders are
    pilot.shipments.fire(parcel, "pick_up")
    pilot.shipments.fire(parcel, "deliver")  # delivers the order too (its last parcel)
    pilot.orders.fire(order.id, "close")


def place_and_pay(pilot: OrderPilot, n: int) -> None:
    order = pilot.orders.place(buyer_id=f"b-{n % 500}", shipping_address=ADDRESS,
                               lines=[{"sku": SKU, "quantity": 1, "unit_price": PRICE}])
    pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"p-{n}")


class Path_:
    """A way of doing orders; `run_for(seconds)` returns orders done per second."""

    def __init__(self, one: Callable[[int], None]):
        self.one, self.next = one, 0

    def run_for(self, seconds: float) -> float:
        start = time.perf_counter()
        done = 0
        while (elapsed := time.perf_counter() - start) < seconds:
            self.one(self.next)
            self.next, done = self.next + 1, done + 1
        return done / elapsed


def api_pilot(path: Path, stock: int) -> OrderPilot:
    pilot = OrderPilot(f"sqlite:///{path}", clock=ManualClock(T0), risk_check=approve_everything)
    pilot.inventory.receive(sku=SKU, warehouse=WAREHOUSE, quantity=stock)
    return pilot


class RawFloor:
    """The floor cost of a state change: BEGIN IMMEDIATE, UPDATE … WHERE version = ?, history
    INSERT, COMMIT — once per API call of the happy path, on the store's own pragmas."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(path)
        tune_sqlite_connection(self.db, level())  # as the store runs: pragmas and WAL
        self.db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, state TEXT, version INT)")
        self.db.execute("CREATE TABLE history (id INTEGER PRIMARY KEY, order_id INTEGER, "
                        "trigger TEXT, from_state TEXT, to_state TEXT, actor TEXT, at TEXT)")

    def one(self, n: int) -> None:
        db = self.db
        db.execute("INSERT INTO orders VALUES (?, 's0', 1)", (n,))  # outside the 8, like setup
        for version in range(1, API_CALLS_PER_ORDER + 1):
            db.execute("BEGIN IMMEDIATE")
            cur = db.execute("UPDATE orders SET state = ?, version = version + 1 "
                             "WHERE id = ? AND version = ?", (f"s{version}", n, version))
            assert cur.rowcount == 1
            db.execute("INSERT INTO history (order_id, trigger, from_state, to_state, actor, at) "
                       "VALUES (?, ?, ?, ?, ?, ?)", (n, "t", "a", "b", "bench",
                                                     datetime.now(UTC).isoformat()))
            db.execute("COMMIT")


def alternate(paths: dict[str, Path_], rounds: int, seconds: float) -> dict[str, list[float]]:
    """Each round runs every path for `seconds`, in turn; orders/s per path per round."""
    rates: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(rounds):
        for name, path in paths.items():
            rates[name].append(path.run_for(seconds))
    return rates


def ratio_stats(num: list[float], den: list[float]) -> dict:
    ratios = sorted(a / b for a, b in zip(num, den, strict=True))
    return {"median": statistics.median(ratios), "min": ratios[0], "max": ratios[-1],
            "rounds": ratios}


def bench_transition(folder: Path, rounds: int, seconds: float) -> dict:
    pilot = api_pilot(folder / "api.db", stock=10**7)
    raw = RawFloor(folder / "raw.db")
    paths = {"api": Path_(lambda n: happy_path(pilot, n)), "raw": Path_(raw.one)}
    paths["api"].run_for(0.2)  # warm up statement caches before any timing
    rates = alternate(paths, rounds, seconds)
    pilot.close()
    api_us = 1e6 / (statistics.median(rates["api"]) * API_CALLS_PER_ORDER)
    raw_us = 1e6 / (statistics.median(rates["raw"]) * API_CALLS_PER_ORDER)
    return {"api_us_per_transition": api_us, "raw_us_per_transition": raw_us,
            "api_orders_per_s": statistics.median(rates["api"]),
            "raw_orders_per_s": statistics.median(rates["raw"]),
            "ratio": ratio_stats(rates["api"], rates["raw"])}


def bench_place_pay(folder: Path, rounds: int, seconds: float) -> dict:
    pilot = api_pilot(folder / "pp-api.db", stock=10**7)
    raw = RawRows(folder / "pp-raw.db", SKU, WAREHOUSE, PRICE, ADDRESS, stock=10**7)
    naive = NaivePeer(folder / "pp-naive.db", SKU, WAREHOUSE, PRICE, ADDRESS, stock=10**7)
    paths = {"api": Path_(lambda n: place_and_pay(pilot, n)), "raw": Path_(raw.place_and_pay),
             "naive": Path_(naive.place_and_pay)}
    for path in paths.values():
        path.run_for(0.2)
    rates = alternate(paths, rounds, seconds)
    same = raw.same_rows_as(pilot.context.engine.url.database)
    pilot.close()
    naive.close()
    return {"orders_per_s": {k: statistics.median(v) for k, v in rates.items()},
            "api_vs_raw": ratio_stats(rates["api"], rates["raw"]),
            "api_vs_naive": ratio_stats(rates["api"], rates["naive"]),
            "same_rows_per_order": same}


def profile_api(folder: Path, orders: int) -> list[tuple[str, float]]:
    """Where one transition's time goes: cProfile's own time, grouped by layer."""
    pilot = api_pilot(folder / "profile.db", stock=10**6)
    for n in range(50):
        happy_path(pilot, n)
    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(50, 50 + orders):
        happy_path(pilot, n)
    profiler.disable()
    pilot.close()
    groups = own_time_by_layer(pstats.Stats(profiler))
    total = sum(groups.values())
    return sorted(((k, v / total) for k, v in groups.items()), key=lambda kv: -kv[1])


def own_time_by_layer(stats: pstats.Stats) -> dict[str, float]:
    """cProfile's own time (seconds) summed by layer."""
    groups: dict[str, float] = {}
    for (file, _, name), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        groups[_layer(file, name)] = groups.get(_layer(file, name), 0.0) + own
    return groups


def _layer(file: str, name: str) -> str:
    if "commit" in name and "sqlite3" in name:
        return "sqlite: COMMIT"
    if name.startswith("<method 'execute") or name.startswith("<method 'executemany"):
        return "sqlite: statements"
    for marker, label in (("/statemachine/", "domain: step tables, guards, effects"),
                          ("/integrations/db/", "db: writer, rows, store"),
                          ("/integrations/service/", "application: pipeline, handlers"),
                          ("/integrations/risk/", "risk hooks"),
                          ("/orderpilot/", "public API"), ("pydantic", "pydantic (edge)"),
                          ("sqlalchemy", "SQLAlchemy"), ("json", "JSON"),
                          ("/enum.py", "enum"), ("datetime", "datetime")):
        if marker in file or marker in name:
            return label
    return "other (builtins, stdlib)"


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
    level()  # NORMAL unless told: comparable with the history (bench/sqlite_level.py)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--round-seconds", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--sweep-orders", type=int, nargs="*", default=[1_000_000])
    parser.add_argument("--sweep-due", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="orderpilot-bench-") as tmp:
        folder = Path(tmp)
        result = {"benchmark": "lifecycle",
                  "transition": bench_transition(folder, args.rounds, args.round_seconds),
                  "place_pay": bench_place_pay(folder, args.rounds, args.round_seconds),
                  "sweeps": [bench_sweep(folder, n, min(args.sweep_due, n // 5))
                             for n in args.sweep_orders]}
        if args.profile:
            result["profile"] = profile_api(folder, 300)
    _print(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return result


def _print(result: dict) -> None:
    console = Console()
    t, p = result["transition"], result["place_pay"]
    table = Table("path", "figure", "ratio median (min–max over rounds)",
                  title="one transition through the API vs the raw floor (SQLite file)")
    table.add_row("API, per transition", f"{t['api_us_per_transition']:.0f} µs",
                  _ratio(t["ratio"]))
    table.add_row("raw floor, per transition", f"{t['raw_us_per_transition']:.0f} µs", "")
    console.print(table)
    table = Table("path", "orders/s (median)", "API / path", title="place + pay")
    table.add_row("public API", f"{p['orders_per_s']['api']:.0f}", "")
    table.add_row("raw sqlite3, same rows", f"{p['orders_per_s']['raw']:.0f}",
                  _ratio(p["api_vs_raw"]))
    table.add_row("naive peer (ORM + Machine per order)", f"{p['orders_per_s']['naive']:.0f}",
                  _ratio(p["api_vs_naive"], percent=False))
    console.print(table)
    console.print(f"rows per order, API vs raw: {p['same_rows_per_order']}")
    sweeps = Table("orders", "due", "sweep s", "peak RSS MB", "fired", title="sweep at scale")
    for s in result["sweeps"]:
        sweeps.add_row(str(s["orders"]), str(s["due"]), f"{s['seconds']:.3f}",
                       f"{s['peak_rss_mb']:.0f}", json.dumps(s["counts"]))
    console.print(sweeps)
    if "profile" in result:
        prof = Table("layer", "share of own time", title="where the API path's time goes")
        for layer, share in result["profile"]:
            prof.add_row(layer, f"{share:.1%}")
        console.print(prof)
    print(json.dumps(result))


def _ratio(stats: dict, percent: bool = True) -> str:
    fmt = (lambda v: f"{v:.1%}") if percent else (lambda v: f"{v:.2f}×")
    return f"{fmt(stats['median'])} ({fmt(stats['min'])}–{fmt(stats['max'])})"


if __name__ == "__main__":
    main()
