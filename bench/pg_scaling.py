"""PostgreSQL scaling: 1, 2 and 4 worker processes placing and paying orders for the same skus.

    python bench/pg_scaling.py [--workers 1 2 4] [--seconds S] [--skus K] [--scarce N]
                               [--url postgresql://postgres@127.0.0.1:5432/test] [--json PATH]

For each worker count, in a fresh database:
(a) throughput: W processes, each placing a one-unit order for one of K hot skus (round robin)
    and paying it, for S seconds through the Python API; orders/s = paid orders / S;
(b) scarcity: the same W processes race to buy 2 N units of one sku stocked with N; exactly N
    may be paid. Oversells = paid units beyond stock, plus any negative on_hand / reserved, plus
    any drift between `reserved` and the live holds (reconcile). All must be 0.

    python bench/pg_scaling.py --contention [--workers 1 2 4] [--seconds S] [--orders M]

(c) contention (bench/contention.py): W processes on one hot sku (place in random sku order,
    pay or cancel), and W processes delivering the parcels of the same M orders in step, under
    the order lock and, for comparison, under SERIALIZABLE without it: commands/s, p50 / p99,
    retries per 1,000 commands, errors, invariant violations (must be 0).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil

if not __package__:  # run as `python bench/pg_scaling.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
ADDRESS = {"street": "1 Bench Road", "city": "Hangzhou"}


def _buy(pilot, sku: str, n: int, tag: str) -> bool:  # noqa: ANN001
    """Place and pay one unit; False if the stock is gone."""
    from statemachine.errors import InsufficientStock

    try:
        order = pilot.orders.place(buyer_id=f"b-{tag}-{n % 50}", shipping_address=ADDRESS,
                                   lines=[{"sku": sku, "quantity": 1, "unit_price": 1999}])
    except InsufficientStock:
        return False
    pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"p-{tag}-{n}")
    return True


def _worker(url: str, skus: list[str], seconds: float, limit: int, tag: str,
            barrier, out) -> None:  # noqa: ANN001
    from orderpilot import OrderPilot
    from statemachine.risk_port import approve_everything

    pilot = OrderPilot(url, risk_check=approve_everything)
    barrier.wait()
    start, cpu, n, paid, sold_out = time.perf_counter(), time.process_time(), 0, 0, 0
    while time.perf_counter() - start < seconds and n < limit:
        if _buy(pilot, skus[n % len(skus)], n, tag):
            paid += 1
        else:
            sold_out += 1
        n += 1
    out.put({"paid": paid, "sold_out": sold_out, "seconds": time.perf_counter() - start,
             "cpu_s": time.process_time() - cpu})
    pilot.close()


def _run_workers(url: str, workers: int, skus: list[str], seconds: float,
                 limit: int) -> list[dict]:
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(workers), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, skus, seconds, limit, f"w{i}", barrier, out))
             for i in range(workers)]
    for p in procs:
        p.start()
    results = [out.get(timeout=seconds + 300) for _ in procs]
    for p in procs:
        p.join()
    return results


def _fresh_database(admin: str) -> str:
    import psycopg

    name = f"orderpilot_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.rsplit("/", 1)[0] + f"/{name}"


def _drop(admin: str, url: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def _stocked(url: str, stock: dict[str, int]):  # noqa: ANN202
    from orderpilot import OrderPilot

    pilot = OrderPilot(url)
    for sku, quantity in stock.items():
        pilot.inventory.receive(sku=sku, warehouse="WH-1", quantity=quantity)
    return pilot


def _oversells(pilot) -> int:  # noqa: ANN001
    """Negative stock levels, and rows where `reserved` drifted from the live holds."""
    levels = {lv.sku: lv for lv in pilot.inventory.levels()}
    negative = sum(max(0, -lv.on_hand) + max(0, -lv.reserved) for lv in levels.values())
    return negative + len(pilot.inventory.reconcile())


class _PostgresCpu:
    """CPU seconds the PostgreSQL server's processes use while it runs (sampled every 0.2 s,
    since each worker's backend exits with its connection)."""

    def __init__(self):
        self.first = self._now()  # processes already running count from here; new ones from 0
        self.last = dict(self.first)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    @staticmethod
    def _now() -> dict[int, float]:
        found = {}
        for proc in psutil.process_iter(["name", "cpu_times"]):
            times = proc.info["cpu_times"]
            if (proc.info["name"] or "").startswith("postgres") and times:
                found[proc.pid] = times.user + times.system
        return found

    def _loop(self) -> None:
        while not self.done.wait(0.2):
            self.last.update(self._now())

    def stop(self) -> float:
        self.done.set()
        self.thread.join()
        self.last.update(self._now())
        return sum(t - self.first.get(pid, 0.0) for pid, t in self.last.items())


def _pct(part: float, whole: float) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def one_count(admin: str, workers: int, seconds: float, skus: int, scarce: int) -> dict:
    """Throughput with plenty of stock, then the scarcity race, each in a fresh database."""
    throughput = _throughput(admin, workers, seconds, [f"HOT-{i}" for i in range(skus)])
    race = _scarcity(admin, workers, scarce)
    return {"workers": workers, **throughput, **race,
            "oversells": throughput.pop("oversells") + race.pop("oversells")}


def _throughput(admin: str, workers: int, seconds: float, hot: list[str]) -> dict:
    url = _fresh_database(admin)
    try:
        pilot = _stocked(url, {s: 10_000_000 for s in hot})
        psutil.cpu_percent(None)
        sampler, machine_before = _PostgresCpu(), psutil.cpu_times()
        runs = _run_workers(url, workers, hot, seconds, 10**9)
        busy = psutil.cpu_percent(None)
        pg_cpu, machine = sampler.stop(), psutil.cpu_times()
        oversells = _oversells(pilot)
        pilot.close()
    finally:
        _drop(admin, url)
    paid, wall = sum(r["paid"] for r in runs), max(r["seconds"] for r in runs)
    python_cpu = sum(r["cpu_s"] for r in runs)
    used = sum(machine[:3]) - sum(machine_before[:3])  # user + nice + system, all CPUs
    return {"paid_orders": paid, "seconds": round(wall, 2),
            "orders_per_s": round(paid / wall, 1), "machine_busy_pct": busy,
            "python_cpu_ms_per_order": round(1000 * python_cpu / max(paid, 1), 2),
            "postgres_cpu_ms_per_order": round(1000 * pg_cpu / max(paid, 1), 2),
            "cpu_share_pct": {"workers": _pct(python_cpu, used), "postgres": _pct(pg_cpu, used),
                              "other": _pct(used - python_cpu - pg_cpu, used)},
            "oversells": oversells}


def _scarcity(admin: str, workers: int, scarce: int) -> dict:
    url = _fresh_database(admin)
    try:
        pilot = _stocked(url, {"SCARCE": scarce})
        runs = _run_workers(url, workers, ["SCARCE"], 600, (2 * scarce) // workers + 1)
        sold = sum(r["paid"] for r in runs)
        oversells = _oversells(pilot) + max(0, sold - scarce)
        pilot.close()
    finally:
        _drop(admin, url)
    return {"scarce_stock": scarce, "scarce_paid": sold, "oversells": oversells}


def contention_rows(admin: str, workers: list[int], seconds: float, orders: int) -> dict:
    """The hot-sku runs (order lock), then the sibling runs under both disciplines."""
    from bench import contention
    from orderpilot import OrderPilot
    from statemachine.risk_port import approve_everything

    hot, siblings = [], []
    for w in workers:
        url = _fresh_database(admin)
        try:
            pilot = _stocked(url, {"HOT": 10_000_000, "COLD-0": 10_000_000,
                                   "COLD-1": 10_000_000})
            pilot.close()
            hot.append(contention.run(url, w, "hot_sku", seconds=seconds))
        finally:
            _drop(admin, url)
    for w in [n for n in workers if n > 1]:
        for mode in ("lock", "serializable"):
            url = _fresh_database(admin)
            try:
                pilot = OrderPilot(url, risk_check=approve_everything)  # set-up, not risk
                parcels = contention.shipped_orders(pilot, orders, w)
                pilot.close()
                siblings.append(contention.run(url, w, "siblings", mode, parcels=parcels))
            finally:
                _drop(admin, url)
    return {"benchmark": "pg_contention", "cpus": mp.cpu_count(),
            "load_average_after": [round(n, 1) for n in os.getloadavg()], "hot_sku": hot,
            "siblings": siblings}


def _print_contention(result: dict) -> None:
    table = Table("workload", "workers", "mode", "commands/s", "p50 ms", "p99 ms",
                  "retries / 1,000", "errors", "violations",
                  title=f"PostgreSQL under contention, {mp.cpu_count()} CPUs")
    for r in result["hot_sku"] + result["siblings"]:
        table.add_row(r["workload"], str(r["workers"]), r["mode"], f"{r['commands_per_s']:.0f}",
                      str(r["p50_ms"]), str(r["p99_ms"]), str(r["retries_per_1000"]),
                      json.dumps(r["errors"]), str(len(r["invariant_violations"])))
    Console().print(table)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--skus", type=int, default=4)
    parser.add_argument("--scarce", type=int, default=200)
    parser.add_argument("--contention", action="store_true",
                        help="run the contention scenarios instead (bench/contention.py)")
    parser.add_argument("--orders", type=int, default=150,
                        help="orders whose parcels the workers deliver together")
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.contention:
        result = contention_rows(args.url, args.workers, args.seconds, args.orders)
        _print_contention(result)
        if args.json:
            args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
        return result
    rows = [one_count(args.url, w, args.seconds, args.skus, args.scarce) for w in args.workers]
    base = rows[0]["orders_per_s"]
    for row in rows:
        row["speedup"] = round(row["orders_per_s"] / base, 2) if base else None
    result = {"benchmark": "pg_scaling", "skus": args.skus, "rows": rows,
              "cpus": mp.cpu_count()}
    _print(result, args.skus)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(json.dumps(result))
    return result


def _print(result: dict, skus: int) -> None:
    table = Table("workers", "orders/s", "speedup", "paid", "CPU busy %",
                  "CPU ms/order: python / postgres", "CPU share: workers / pg / other",
                  "scarce: stock / paid", "oversells",
                  title=f"PostgreSQL, place + pay, {skus} hot skus, {mp.cpu_count()} CPUs")
    for r in result["rows"]:
        table.add_row(str(r["workers"]), f"{r['orders_per_s']:.0f}", f"{r['speedup']}x",
                      str(r["paid_orders"]), f"{r['machine_busy_pct']:.0f}",
                      f"{r['python_cpu_ms_per_order']} / {r['postgres_cpu_ms_per_order']}",
                      "{workers:.0f}% / {postgres:.0f}% / {other:.0f}%".format(
                          **r["cpu_share_pct"]),
                      f"{r['scarce_stock']} / {r['scarce_paid']}", str(r["oversells"]))
    Console().print(table)


if __name__ == "__main__":
    main()
