"""How long a bulk replay holds SQLite's write lock: placements parsed inside each window's
transaction (as the replay did before 2026-11-29) vs before it (`BulkDriver.apply`).

    python bench/replay_lock.py [--path FILE] [--limit N] [--rounds R] [--json PATH]

Each run is a fresh process replaying the first `--limit` rows into a fresh SQLite file, as
`orderpilot replay` is (so a Chinese address's division table, loaded once per process, is
paid by the run that parses first). The two sides alternate run by run, `--rounds` each, with
the replay's own addresses (Brazilian, as Olist's buyers) and with Chinese ones (浙江省杭州市西湖区
文三路 N 号, a merchant's history). Per run: the write transactions' total time open (BEGIN
IMMEDIATE to COMMIT: the lock held; no other writer could begin meanwhile), the longest one,
and the replay's wall time. The "inside" side is the driver with its parse moved back into the
transaction (`Inside` below), everything else the same code.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

if not __package__:  # run as `python bench/replay_lock.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.datasets import dataset  # noqa: E402

DEFAULT_PATH = os.environ.get("ORDERPILOT_OLIST_ORDERS", str(dataset("olist_orders.csv.gz")))
SIDES = ("inside", "before")
ADDRESSES = ("replay", "chinese")


def one_run(path: str, limit: int, side: str, addresses: str, db: str) -> dict:
    """One replay in this process: the lock's hold times and the wall time."""
    from integrations.replay import bulk_driver, runner
    from integrations.replay.drivers import BaseDriver
    from integrations.replay.events import Event
    from integrations.service.context import Tx
    from integrations.service.inputs import PlaceOrder, parse

    holds: list[float] = []

    class Timed(bulk_driver.BulkDriver):
        @contextmanager
        def unit(self) -> Iterator[Tx]:
            started = time.perf_counter()
            with super().unit() as tx:
                yield tx
            holds.append(time.perf_counter() - started)

    class Inside(Timed):
        """The driver as before: each placement parsed in the window's transaction."""

        def _parsed(self, events: Sequence[Event]) -> dict:
            return {}

        def _place(self, tx: Tx, events: Sequence[Event]) -> None:
            self.contacts = bulk_driver.BulkDriver._parsed(self, events)
            super()._place(tx, [e for e in events if e.ref in self.contacts])

    if addresses == "chinese":
        placed_as = BaseDriver.place_request

        def in_hangzhou(self: BaseDriver, ref: str) -> PlaceOrder:
            request = placed_as(self, ref).model_dump(exclude_none=True)
            request["shipping_address"] = {
                "line": f"浙江省杭州市西湖区文三路 {sum(map(ord, ref)) % 500 + 1} 号",
                "recipient": "王芳"}
            request["phone"] = "13800138000"
            return parse(PlaceOrder, request)

        BaseDriver.place_request = in_hangzhou  # type: ignore[method-assign]
    runner.BulkDriver = Inside if side == "inside" else Timed  # type: ignore[misc]
    started = time.perf_counter()
    report = runner.replay(path, runner.ReplayOptions(f"sqlite:///{db}", limit=limit))
    return {"side": side, "addresses": addresses, "wall_s": time.perf_counter() - started,
            "lock_s": sum(holds), "longest_s": max(holds), "units": len(holds),
            "orders": report.rows_replayed, "failures": len(report.failures)}


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=Path(DEFAULT_PATH))
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--one", nargs=3, metavar=("SIDE", "ADDRESSES", "DB"),
                        help=argparse.SUPPRESS)  # a child run
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_run(str(args.path), args.limit, *args.one)))
        return {}
    if not args.path.exists():
        result = {"benchmark": "replay_lock", "skipped": f"{args.path} not found"}
        print(json.dumps(result))
        return result
    runs: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="orderpilot-bench-") as tmp:
        for n in range(args.rounds):
            for addresses in ADDRESSES:
                order = SIDES if n % 2 == 0 else SIDES[::-1]  # alternate who goes first
                for side in order:
                    db = Path(tmp) / f"{side}-{addresses}-{n}.db"
                    out = subprocess.run(
                        [sys.executable, __file__, "--path", str(args.path), "--limit",
                         str(args.limit), "--one", side, addresses, str(db)],
                        check=True, capture_output=True, text=True).stdout
                    runs.append(json.loads(out.strip().splitlines()[-1]))
    result = {"benchmark": "replay_lock", "path": str(args.path), "limit": args.limit,
              "rounds": args.rounds, "runs": runs, "median": {
                  f"{a}/{s}": {k: _median([r for r in runs if (r["addresses"], r["side"])
                                           == (a, s)], k)
                               for k in ("lock_s", "longest_s", "wall_s")}
                  for a in ADDRESSES for s in SIDES}}
    for key, m in result["median"].items():
        print(f"{key:16} lock held {m['lock_s']:.3f} s, longest {m['longest_s']:.3f} s, "
              f"wall {m['wall_s']:.2f} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
