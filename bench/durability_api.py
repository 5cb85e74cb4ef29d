"""What SQLite's durable default (FULL: an fsync per COMMIT) costs the Python API, in one run.

    python bench/durability_api.py [--orders N] [--rounds R] [--json FILE]

The product's default became `ORDERPILOT_SQLITE_SYNCHRONOUS=full` (docs/operate.md#durability);
the API benchmarks pin NORMAL to compare with their history (bench/sqlite_level.py). This one
measures the difference a default user sees: fresh processes alternate — FULL, NORMAL, FULL … —
each driving N orders through bench/versus.py's eight-call happy path (place, pay, start_picking,
pack, ship, pick_up, deliver, close) on a fresh SQLite file of this checkout. Per round: wall and
CPU µs per API call at each level and their ratio. Figures to read, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if not __package__:  # run as `python bench/durability_api.py` from a checkout
    sys.path.insert(0, str(ROOT))
from bench.versus import measure  # noqa: E402

LEVELS = ("full", "normal")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rounds = []
    print(f"{'round':>5} {'FULL wall':>10} {'NORMAL wall':>12} {'wall ×':>7} "
          f"{'FULL cpu':>9} {'NORMAL cpu':>11} {'load':>5}")
    for n in range(1, args.rounds + 1):
        got = {level: measure(ROOT, args.orders, level=level) for level in LEVELS}
        row = {"round": n, "load": os.getloadavg()[0],
               **{f"{level}_{what}": got[level][i] for level in LEVELS
                  for i, what in enumerate(("wall_us", "cpu_us"))}}
        row["wall_ratio"] = row["full_wall_us"] / row["normal_wall_us"]
        row["cpu_ratio"] = row["full_cpu_us"] / row["normal_cpu_us"]
        rounds.append(row)
        print(f"{n:>5} {row['full_wall_us']:>10.1f} {row['normal_wall_us']:>12.1f} "
              f"{row['wall_ratio']:>7.2f} {row['full_cpu_us']:>9.1f} "
              f"{row['normal_cpu_us']:>11.1f} {row['load']:>5.1f}")
    summary = {key: statistics.median(r[key] for r in rounds) for key in (
        "full_wall_us", "normal_wall_us", "wall_ratio", "full_cpu_us", "normal_cpu_us",
        "cpu_ratio")}
    print("median: FULL {full_wall_us:.0f} µs vs NORMAL {normal_wall_us:.0f} µs wall per API "
          "call ({wall_ratio:.2f}×); CPU {cpu_ratio:.2f}×".format(**summary))
    result = {"benchmark": "durability_api", "orders": args.orders, "rounds": rounds,
              "median": summary, "python": platform.python_version()}
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    print(json.dumps({"benchmark": "durability_api", **summary}))
    return result


if __name__ == "__main__":
    main()
