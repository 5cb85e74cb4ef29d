"""Replay wall time and orders/s for the real Olist orders (9,999 rows).

    python bench/replay.py [--path FILE] [--limit N] [--compare N] [--json PATH]

Replays the file into a fresh SQLite file on the bulk path (the `orderpilot replay` default),
then the first `--compare` rows on both the bulk path and the per-transition service path with
hourly sweeps, to show what the bulk path buys. The data set is not part of the product: when
the file is absent the benchmark says so and reports nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

if not __package__:  # run as `python bench/replay.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.datasets import dataset  # noqa: E402
from integrations.replay.runner import ReplayOptions, replay  # noqa: E402

DEFAULT_PATH = os.environ.get("ORDERPILOT_OLIST_ORDERS", str(dataset("olist_orders.csv.gz")))
KEEP = ("rows_read", "rows_replayed", "transitions_applied", "impossible_transitions",
        "payments_after_deadline", "transitions_by_trigger",
        "late_deliveries_flagged", "late_unflagged_already_stalled", "stalls_flagged",
        "parcels_stalled", "wall_seconds",
        "orders_per_second", "transitions_per_second", "orders_by_state", "skipped",
        "median_hours", "carriers", "source_says", "sweeps")


def run(path: Path, folder: Path, name: str, **options: object) -> dict:
    report = replay(path, ReplayOptions(f"sqlite:///{folder / name}", **options))  # type: ignore[arg-type]
    return {k: v for k, v in report.model_dump(mode="json").items() if k in KEEP}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=Path(DEFAULT_PATH))
    parser.add_argument("--limit", type=int)
    parser.add_argument("--compare", type=int, default=500)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if not args.path.exists():
        result = {"benchmark": "replay", "skipped": f"{args.path} not found (set "
                  "ORDERPILOT_OLIST_ORDERS or --path to the Olist orders file)"}
        print(result["skipped"])
        print(json.dumps(result))
        return result
    with tempfile.TemporaryDirectory(prefix="orderpilot-bench-") as tmp:
        folder = Path(tmp)
        full = run(args.path, folder, "full.db", limit=args.limit)
        bulk = run(args.path, folder, "bulk.db", limit=args.compare)
        slow = run(args.path, folder, "slow.db", limit=args.compare, bulk=False, batching=False)
    result = {"benchmark": "replay", "path": str(args.path), "full": full,
              "compare": {"rows": args.compare, "bulk": bulk, "per_transition_hourly": slow}}
    _print(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(json.dumps(result))
    return result


def _print(result: dict) -> None:
    table = Table("run", "rows", "orders", "transitions", "impossible", "late", "stall alerts",
                  "wall s", "orders/s", "transitions/s", title="replay of real orders")
    runs = {"full (bulk)": result["full"], "first rows, bulk": result["compare"]["bulk"],
            "first rows, per transition + hourly": result["compare"]["per_transition_hourly"]}
    for name, r in runs.items():
        table.add_row(name, str(r["rows_read"]), str(r["rows_replayed"]),
                      str(r["transitions_applied"]), str(r["impossible_transitions"]),
                      str(r["late_deliveries_flagged"]), str(r["stalls_flagged"]),
                      f"{r['wall_seconds']:.1f}", f"{r['orders_per_second']:.0f}",
                      f"{r['transitions_per_second']:.0f}")
    Console().print(table)


if __name__ == "__main__":
    main()
