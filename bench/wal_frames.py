"""Which tables and indexes each API call of the happy path writes, and how many statements.

    python bench/wal_frames.py [--warm 200] [--json out.json]
    python bench/wal_frames.py --webhook 100 [--warm 40]   # signed webhook placements

A SQLite COMMIT in WAL mode appends one frame (a 4 KiB page and a 24-byte header, two
`pwrite`s) per page the transaction dirtied, and a page belongs to one b-tree: a table or one of
its indexes. So the frames a call appends, named by the b-tree their page belongs to (the
`dbstat` virtual table), are the rows and index entries it wrote, counted the way the COMMIT
pays for them. The calls are bench/versus.py's eight (place, pay, start_picking, pack, ship,
pick_up, deliver, close; risk approves everything), for one order after `--warm` orders
(so the tables have pages to fill and the counts are those of a store in use); the WAL is
checkpointed just before it, so its frames are the order's own. `--webhook N`: instead,
N signed placements through the ingestion app of `orderpilot api` (bench/placement_cost.py's:
new buyers in China, the packaged risk rules, the inbound-event log), after `--warm` of them,
frames and statements per placement. Deterministic: no timing, the
figures do not depend on the machine's load. Measurement only: nothing in the product imports
this.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import struct
import sys
import tempfile
from collections import Counter
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if not __package__:  # run as `python bench/wal_frames.py` from a checkout
    sys.path.insert(0, str(ROOT))
from bench.sqlite_level import level  # noqa: E402

FRAME_HEADER, WAL_HEADER = 24, 32
AUTO_CHECKPOINT = 10_000  # pages: engine.SQLITE_PRAGMAS' wal_autocheckpoint
ADDRESS = {"street": "文三路 18 号", "city": "杭州市", "district": "西湖区", "province": "浙江省"}


def happy_path(pilot: Any, n: int) -> list[tuple[str, Any]]:
    """The eight calls of one order, as (name, thunk) — run in this order."""
    box: dict[str, Any] = {}

    def place() -> None:
        box["order"] = pilot.orders.place(buyer_id=f"b-{n % 500}", shipping_address=ADDRESS,
                                          lines=[{"sku": "SKU-1", "quantity": 1,
                                                  "unit_price": 1999}])

    def order(trigger: str, **ctx: Any) -> tuple[str, Any]:
        return trigger, lambda: pilot.orders.fire(box["order"].id, trigger, **ctx)

    def parcel(trigger: str) -> tuple[str, Any]:  # one parcel per order, numbered alike
        return trigger, lambda: pilot.shipments.fire(f"s-{n + 1}", trigger)

    return [("place", place),
            ("pay", lambda: pilot.orders.fire(box["order"].id, "pay",
                                              amount=box["order"].total, payment_ref=f"p-{n}")),
            order("start_picking"), order("pack"), order("ship"),
            parcel("pick_up"), parcel("deliver"), order("close")]


def measure(warm: int) -> list[dict[str, Any]]:
    """Per call of one order: statements run (BEGIN and COMMIT included) and frames by b-tree."""
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    from orderpilot import ManualClock, OrderPilot
    from statemachine.risk_port import approve_everything

    statements: list[str] = []

    def traced(connection: Any, _record: Any) -> None:
        connection.set_trace_callback(statements.append)

    event.listen(Pool, "connect", traced)
    try:
        with tempfile.TemporaryDirectory() as folder:
            db = Path(folder) / "shop.db"
            pilot = OrderPilot(f"sqlite:///{db}", clock=ManualClock(datetime(2026, 11, 11,
                               tzinfo=UTC)), risk_check=approve_everything)
            pilot.inventory.receive(sku="SKU-1", warehouse="WH-1", quantity=warm + 50)
            for n in range(warm):
                for _, call in happy_path(pilot, n):
                    call()
            with closing(sqlite3.connect(db)) as raw:  # the measured order starts the WAL
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            wal, calls = Path(f"{db}-wal"), []
            for name, call in happy_path(pilot, warm):
                statements.clear()
                start = wal.stat().st_size if wal.exists() else 0
                call()
                ran = [s for s in statements if not s.lstrip().upper().startswith("PRAGMA")]
                calls.append({"call": name, "statements": len(ran),
                              "span": (max(start, WAL_HEADER), wal.stat().st_size)})
            log = wal.read_bytes()
            pilot.close()
            owner = page_owners(db)
    finally:
        event.remove(Pool, "connect", traced)
    size = int.from_bytes(log[8:12], "big") + FRAME_HEADER
    for entry in calls:
        start, end = entry.pop("span")
        pages = [struct.unpack(">I", log[at:at + 4])[0] for at in range(start, end, size)]
        entry["frames"] = dict(Counter(owner.get(p, f"page {p} (freed)") for p in pages))
    return calls


def measure_webhook(warm: int, count: int) -> dict[str, Any]:
    """Per signed webhook placement (the mean of `count`): statements and frames by b-tree."""
    import asyncio

    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    from bench.http_servers import SECRETS, SKUS
    from bench.placement_cost import asgi_post, requests
    from integrations.http.settings import HttpSettings
    from orderpilot import OrderPilot
    from orderpilot.api_integrations import http_app

    statements: list[str] = []

    def traced(connection: Any, _record: Any) -> None:
        connection.set_trace_callback(statements.append)

    payloads = requests(warm + count, 0.0, 1)
    event.listen(Pool, "connect", traced)
    try:
        with tempfile.TemporaryDirectory() as folder:
            db = Path(folder) / "shop.db"
            pilot = OrderPilot(f"sqlite:///{db}")
            for sku, _ in SKUS:
                pilot.inventory.receive(sku=sku, warehouse="WH-HANGZHOU", quantity=10_000_000)
            app = http_app(pilot, HttpSettings(secrets=SECRETS))
            wal, spans, states = Path(f"{db}-wal"), [], Counter()

            async def run() -> None:
                async with app.router.lifespan_context(app):
                    for payload in payloads[:warm]:
                        await asgi_post(app, payload)
                    with closing(sqlite3.connect(db)) as raw:
                        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    statements.clear()
                    for payload in payloads[warm:]:
                        start = wal.stat().st_size if wal.exists() else 0
                        states[(await asgi_post(app, payload))["order"]["state"]] += 1
                        spans.append((max(start, WAL_HEADER), wal.stat().st_size))
            asyncio.run(run())
            ran = [s for s in statements if not s.lstrip().upper().startswith("PRAGMA")]
            log = wal.read_bytes()
            if spans[-1][1] >= AUTO_CHECKPOINT * (4096 + FRAME_HEADER):  # it restarted: overwritten
                raise SystemExit(f"{count} placements fill the WAL past the store's automatic "
                                 "checkpoint: count fewer")
            pilot.close()
            owner = page_owners(db)
    finally:
        event.remove(Pool, "connect", traced)
    size = int.from_bytes(log[8:12], "big") + FRAME_HEADER
    frames: Counter[str] = Counter()
    for start, end in spans:  # each placement's own frames: the WAL only grows meanwhile
        frames.update(owner.get(struct.unpack(">I", log[at:at + 4])[0], "(freed page)")
                      for at in range(start, end, size))
    kinds = Counter(s.split(None, 1)[0].upper() for s in ran)
    return {"placements": count, "states": dict(states),
            "statements": len(ran) / count, "statement_kinds": {k: v / count for k, v in
                                                                kinds.most_common()},
            "frames": sum(frames.values()) / count,
            "frames_by_btree": {k: v / count for k, v in frames.most_common()}}


def page_owners(db: Path) -> dict[int, str]:
    """Page number → the table or index it belongs to (SQLite's `dbstat` table)."""
    with closing(sqlite3.connect(db)) as raw:
        try:
            return dict(raw.execute("SELECT pageno, name FROM dbstat"))
        except sqlite3.OperationalError as error:  # built without SQLITE_ENABLE_DBSTAT_VTAB
            raise SystemExit(f"this SQLite has no dbstat table ({error}): "
                             "cannot name pages") from None


def main(argv: list[str] | None = None) -> dict[str, Any]:
    level()  # NORMAL unless told, as bench/versus.py (the frames are the same at FULL)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=200, help="orders run before the measured one")
    parser.add_argument("--webhook", type=int, metavar="N",
                        help="count N signed webhook placements instead of the eight calls")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.webhook:
        result = measure_webhook(args.warm, args.webhook)
        print(f"per webhook placement ({args.webhook}, states {result['states']}): "
              f"{result['statements']:.1f} statements, {result['frames']:.1f} frames")
        print("  " + ", ".join(f"{k} {v:.2f}" for k, v in result["statement_kinds"].items()))
        for name, frames in result["frames_by_btree"].items():
            print(f"  {frames:6.2f}  {name}")
        if args.json:
            args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False))
        return result
    calls = measure(args.warm)
    total: Counter[str] = Counter()
    for entry in calls:
        total.update(entry["frames"])
        print(f"{entry['call']:14s} {entry['statements']:3d} statements "
              f"{sum(entry['frames'].values()):3d} frames  "
              + ", ".join(f"{k} {v}" for k, v in sorted(entry["frames"].items())))
    print(f"one order: {sum(e['statements'] for e in calls)} statements, "
          f"{sum(total.values())} frames")
    for name, frames in total.most_common():
        print(f"  {frames:4d}  {name}")
    result = {"warm_orders": args.warm, "calls": calls, "frames_by_btree": dict(total),
              "frames": sum(total.values()),
              "statements": sum(e["statements"] for e in calls)}
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
