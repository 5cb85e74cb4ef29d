"""This checkout's API path against the code before the transition pipeline, in one run.

    python bench/versus.py [--base COMMIT] [--orders N] [--rounds R] [--profile] [--instructions]

Issue 10 asks for the per-transition API path at ≥ 3× "today's figure in the same run". A
figure from another day on this shared machine means little, so this script checks the base
commit out into a temporary directory (`git worktree`, removed afterwards) and alternates fresh
processes — base, current, base, current … — each driving N orders through the same eight-call
happy path of the public Python API on a fresh SQLite file (place, pay, start_picking, pack,
ship, pick_up, deliver, close; risk approves everything). Each process reports wall time and CPU
time per API call; the ratio of each alternation is printed with its median. Nothing here is a
test: figures to read. On a shared machine the times swing with the load (single rounds from
0.3× to 3.7× at load 10–17); `--instructions` adds a count the load does not move: user-space
instructions per call of each side under valgrind (the kernel's part, the WAL writes, is not in
it: bench/wal_frames.py counts those).
"""

from __future__ import annotations

import argparse
import json
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if not __package__:  # run as `python bench/versus.py` from a checkout
    sys.path.insert(0, str(ROOT))
from bench import sqlite_level  # noqa: E402

BASE = "beed903"  # the last commit before the pipeline (issue 10): three copies of the writes

# The driver runs inside the checkout under test (its own imports), so it only uses the public
# API both versions share.
DRIVER = r"""
import os, sys, tempfile, time
from datetime import UTC, datetime
import orderpilot
from orderpilot import ManualClock, OrderPilot
assert orderpilot.__file__.startswith(os.getcwd()), orderpilot.__file__  # the tree under test
from statemachine.risk_port import approve_everything

orders = int(sys.argv[1])
address = {"street": "文三路 18 号", "city": "杭州市", "district": "西湖区", "province": "浙江省"}
with tempfile.TemporaryDirectory() as folder:
    pilot = OrderPilot(f"sqlite:///{folder}/shop.db", clock=ManualClock(datetime(2026, 11, 11,
                       tzinfo=UTC)), risk_check=approve_everything)
    pilot.inventory.receive(sku="SKU-1", warehouse="WH-1", quantity=orders + 50)

    def one(n):
        order = pilot.orders.place(buyer_id=f"b-{n % 500}", shipping_address=address,
                                   lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": 1999}])
        pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"p-{n}")
        pilot.orders.fire(order.id, "start_picking")
        pilot.orders.fire(order.id, "pack")
        pilot.orders.fire(order.id, "ship")
        parcel = f"s-{n + 1}"  # one parcel per order, numbered as the orders are
        pilot.shipments.fire(parcel, "pick_up")
        pilot.shipments.fire(parcel, "deliver")
        pilot.orders.fire(order.id, "close")

    for n in range(30):  # warm-up: imports, caches, the first pages of the file
        one(n)
    profiler = None
    if len(sys.argv) > 2:  # --profile: the timed loop under cProfile, stats to this file
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    wall, cpu = time.perf_counter(), time.process_time()
    for n in range(30, 30 + orders):
        one(n)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(sys.argv[2])
    state = pilot.orders.get(f"o-{30 + orders}").state
    assert str(state).endswith("completed"), state
    pilot.close()
calls = orders * 8
print(f"{wall / calls * 1e6:.1f} {cpu / calls * 1e6:.1f}")
"""


def checkout(commit: str, into: Path) -> Path:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f", str(into),
                    commit], check=True, capture_output=True)
    return into


def measure(tree: Path, orders: int, profile: Path | None = None, *,
            level: str | None = None) -> tuple[float, float]:
    """(wall µs, CPU µs) per API call of one fresh process running the driver in `tree`, its
    store at SQLite durability `level` (default: the benchmarks' level, sqlite_level.level())."""
    extra = [str(profile)] if profile else []
    done = subprocess.run([sys.executable, "-c", DRIVER, str(orders), *extra], cwd=tree,
                          env=_env(tree, level), capture_output=True, text=True, check=True)
    wall, cpu = done.stdout.split()
    return float(wall), float(cpu)


def _env(tree: Path, level: str | None = None) -> dict[str, str]:
    """The driver's environment: the code of `tree`, its store at SQLite durability `level`
    (default: the benchmarks' level; the base code predates the setting: NORMAL, its only one)."""
    return {"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin",
            sqlite_level.ENV: level or sqlite_level.level()}


def instructions(tree: Path, low: int, high: int) -> float:
    """User-space instructions per API call (valgrind's cachegrind): the driver at `high`
    orders minus at `low`, so start-up and imports cancel. A count, not a time: the machine's
    load does not move it (the kernel's part, the WAL writes, is not in it)."""
    counts = []
    for orders in (low, high):
        with tempfile.TemporaryDirectory() as scratch:
            done = subprocess.run(
                ["valgrind", "--tool=cachegrind", "--cache-sim=no",
                 f"--cachegrind-out-file={scratch}/out", sys.executable, "-c", DRIVER,
                 str(orders)], cwd=tree, capture_output=True, text=True, check=True,
                env=_env(tree))
        counts.append(int(re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)[1].replace(",", "")))
    return (counts[1] - counts[0]) / ((high - low) * 8)


def by_instructions(base: Path, orders: int) -> dict[str, float]:
    """Instructions per API call, base and current (each tree's modules compiled by a plain
    run first: the first run of a fresh tree writes its .pyc files, which would count)."""
    low = max(10, orders // 10)
    found = {}
    for side, tree in (("base", base), ("current", ROOT)):
        measure(tree, 1)
        found[side] = instructions(tree, low, orders)
    found["speedup"] = found["base"] / found["current"]
    print(f"instructions per API call: base {found['base']:,.0f}, current "
          f"{found['current']:,.0f}: {found['speedup']:.3f}x")
    return found


def by_layer(base: Path, scratch: Path, orders: int) -> dict[str, dict[str, float]]:
    """Own time per API call grouped by layer (bench/lifecycle.py's grouping), base and current;
    the profiler's overhead inflates every layer, so compare the two sides, not with the
    unprofiled figures."""
    from bench.lifecycle import own_time_by_layer

    found: dict[str, dict[str, float]] = {}
    for side, tree in (("base", base), ("current", ROOT)):
        out = scratch / f"{side}.prof"
        measure(tree, orders, out)
        for layer, own in own_time_by_layer(pstats.Stats(str(out))).items():
            found.setdefault(layer, {"base": 0.0, "current": 0.0})[side] = \
                own / (orders * 8) * 1e6
    for layer, sides in sorted(found.items(), key=lambda kv: -kv[1]["base"]):
        print(f"{layer:40s} {sides['base']:8.1f} µs {sides['current']:8.1f} µs")
    return found


def main(argv: list[str] | None = None) -> dict:
    sqlite_level.level()  # NORMAL unless told: comparable with the history (sqlite_level.py)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=BASE)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--profile", action="store_true",
                        help="one more process per side under cProfile: µs per call by layer")
    parser.add_argument("--instructions", action="store_true",
                        help="user-space instructions per call of each side (valgrind): a "
                             "ratio the machine's load does not move")
    args = parser.parse_args(argv)
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind on the PATH (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as scratch:
        base = checkout(args.base, Path(scratch) / "base")
        try:
            rounds = []
            for _ in range(args.rounds):
                before, after = measure(base, args.orders), measure(ROOT, args.orders)
                rounds.append({"base": before, "current": after,
                               "wall_speedup": before[0] / after[0],
                               "cpu_speedup": before[1] / after[1]})
                print(json.dumps(rounds[-1]), flush=True)
            layers = by_layer(base, Path(scratch), args.orders) if args.profile else None
            counted = by_instructions(base, args.orders) if args.instructions else None
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)],
                           capture_output=True)
    result = {
        "base": args.base, "orders_per_process": args.orders, "rounds": rounds,
        "median_wall_us_per_call": {
            "base": statistics.median(r["base"][0] for r in rounds),
            "current": statistics.median(r["current"][0] for r in rounds)},
        "median_cpu_us_per_call": {
            "base": statistics.median(r["base"][1] for r in rounds),
            "current": statistics.median(r["current"][1] for r in rounds)},
        "median_wall_speedup": statistics.median(r["wall_speedup"] for r in rounds),
        "median_cpu_speedup": statistics.median(r["cpu_speedup"] for r in rounds),
        "spread_wall_speedup": [min(r["wall_speedup"] for r in rounds),
                                max(r["wall_speedup"] for r in rounds)],
        "profile_us_per_call": layers,
        "instructions_per_call": counted,
    }
    print(json.dumps({k: v for k, v in result.items() if k != "rounds"}, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
