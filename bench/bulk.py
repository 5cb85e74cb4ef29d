"""The replay/import bulk path against the raw `executemany` limit, as a ratio in one run.

    python bench/bulk.py [--orders N] [--batch B] [--rounds R] [--json PATH]

(a) transitions/s through `integrations.replay.bulk.fire_orders` on a SQLite file: paid orders
    moved to picking, then to packed, B orders per transaction — each move through the step
    table and guards, with the version-checked UPDATE, history, outbox and deadline rows;
(b) the raw limit: plain sqlite3, the same number of transitions, each one version-checked
    UPDATE + history INSERT, as `executemany` in one transaction per B (the same floor as
    bench/lifecycle.py, batched), with the store's own pragmas;
(c) a / b; and (d) a / "same rows": plain sqlite3 executemany writing exactly the rows (a)
    writes — full order UPDATE, history and outbox rows with their JSON, deadline DELETE — on
    the store's own schema and indexes. Rounds alternate the paths so all see the same load.
Setup (not timed) writes the paid orders with plain INSERTs.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

if not __package__:  # run as `python bench/bulk.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.sqlite_level import level  # noqa: E402
from integrations.bootstrap import build_context  # noqa: E402
from integrations.db.engine import tune_sqlite_connection  # noqa: E402
from integrations.replay.bulk import Move, fire_orders  # noqa: E402
from statemachine.clock import ManualClock  # noqa: E402

T0 = datetime(2026, 11, 11, tzinfo=UTC)
STEPS = ("start_picking", "pack")


class BulkPath:
    """Paid orders moved through two steps by the bulk path, one transaction per batch."""

    def __init__(self, folder: Path, orders: int):
        self.ctx = build_context(f"sqlite:///{folder / 'bulk.db'}", ManualClock(T0))
        with self.ctx.tx() as tx:
            tx.store.sql.run("INSERT INTO buyers (id, created_at, credit_score) "
                             "VALUES ('b-1', :at, 100)", {"at": T0})
            tx.store.sql.many(
                "INSERT INTO orders (buyer_id, state, version, currency, total, paid, refunded, "
                "payment_ref, attrs, created_at, updated_at) VALUES ('b-1', 'paid', 1, 'CNY', "
                "1999, 1999, 0, :ref, '{}', :at, :at)",
                [{"ref": f"p-{i}", "at": T0} for i in range(orders + 1)])
        self.next = 1

    def run(self, orders: int, batch: int) -> float:
        start = time.perf_counter()
        for first in range(self.next, self.next + orders, batch):
            ids = range(first, min(first + batch, self.next + orders))
            for step, trigger in enumerate(STEPS, start=1):
                at = T0 + timedelta(minutes=step)
                with self.ctx.tx() as tx:
                    refused = fire_orders(self.ctx, tx, [Move(i, trigger, at, "bench")
                                                         for i in ids])
                    assert not refused, refused[:1]
        self.next += orders
        return time.perf_counter() - start


class RawPath:
    """The floor: versioned UPDATE + history INSERT per transition, executemany per batch."""

    def __init__(self, folder: Path, orders: int):
        self.db = sqlite3.connect(folder / "raw.db")
        tune_sqlite_connection(self.db, level())  # as the store runs: pragmas and WAL
        self.db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, state TEXT, version INT)")
        self.db.execute("CREATE TABLE history (id INTEGER PRIMARY KEY, order_id INTEGER, "
                        "trigger TEXT, from_state TEXT, to_state TEXT, actor TEXT, at TEXT)")
        self.db.executemany("INSERT INTO orders VALUES (?, 'paid', 1)",
                            [(i,) for i in range(orders + 1)])
        self.next = 1

    def run(self, orders: int, batch: int) -> float:
        db, start = self.db, time.perf_counter()
        for first in range(self.next, self.next + orders, batch):
            ids = range(first, min(first + batch, self.next + orders))
            for version, trigger in enumerate(STEPS, start=1):
                at = datetime.now(UTC).isoformat()
                db.execute("BEGIN IMMEDIATE")
                cur = db.executemany("UPDATE orders SET state = ?, version = version + 1 "
                                     "WHERE id = ? AND version = ?",
                                     [(trigger, i, version) for i in ids])
                assert cur.rowcount == len(ids)
                db.executemany("INSERT INTO history (order_id, trigger, from_state, to_state, "
                               "actor, at) VALUES (?, ?, ?, ?, ?, ?)",
                               [(i, trigger, "a", "b", "bench", at) for i in ids])
                db.execute("COMMIT")
        self.next += orders
        return time.perf_counter() - start


class SameRowsPath:
    """The same rows the bulk path writes, with plain sqlite3 executemany on the store's schema:
    the full order UPDATE, history and outbox rows (JSON payloads serialised here too) and the
    deadline DELETE — a raw program doing the same work, without the lifecycle or the store."""

    def __init__(self, folder: Path, orders: int):
        BulkPath(folder / "same", orders).ctx.close()  # the store's schema and rows
        self.db = sqlite3.connect(folder / "same" / "bulk.db")
        tune_sqlite_connection(self.db, level())
        self.next = 1

    def run(self, orders: int, batch: int) -> float:
        db, start = self.db, time.perf_counter()
        for first in range(self.next, self.next + orders, batch):
            ids = range(first, min(first + batch, self.next + orders))
            for version, trigger in enumerate(STEPS, start=1):
                at = (T0 + timedelta(minutes=version)).replace(tzinfo=None).isoformat(" ")
                db.execute("BEGIN IMMEDIATE")
                self._write(db, ids, version, trigger, at)
                db.execute("COMMIT")
        self.next += orders
        return time.perf_counter() - start

    @staticmethod
    def _write(db: sqlite3.Connection, ids: range, version: int, trigger: str, at: str) -> None:
        cur = db.executemany(
            "UPDATE orders SET state = ?, paid = ?, refunded = ?, payment_ref = ?, "
            "hold_expires_at = ?, attrs = ?, updated_at = ?, version = ? "
            "WHERE id = ? AND version = ?",
            [(trigger, 1999, 0, f"p-{i}", None, "{}", at, version + 1, i, version) for i in ids])
        assert cur.rowcount == len(ids)
        db.executemany("DELETE FROM deadlines WHERE entity = 'order' AND entity_id = ?",
                       [(i,) for i in ids])
        db.executemany(
            "INSERT INTO transition_history (entity, entity_id, order_id, trigger, from_state, "
            "to_state, actor, at, payload) VALUES ('order', ?, ?, ?, 'a', 'b', 'bench', ?, ?)",
            [(i, i, trigger, at, json.dumps({})) for i in ids])
        db.executemany(
            "INSERT INTO outbox (event, entity, entity_id, order_id, payload, created_at) "
            "VALUES (?, 'order', ?, ?, ?, ?)",
            [(f"orderpilot.order.{trigger}", i, i, json.dumps(
                {"order_id": f"o-{i}", "entity_id": f"o-{i}", "trigger": trigger,
                 "from_state": "a", "to_state": "b", "actor": "bench", "at": at,
                 "buyer_id": "b-1", "state": "b", "total": 1999, "currency": "CNY",
                 "paid": 1999, "refunded": 0, "details": {}}), at) for i in ids])


def bench(folder: Path, orders: int, batch: int, rounds: int) -> dict:
    (folder / "same").mkdir()
    paths = {"bulk": BulkPath(folder, orders), "raw": RawPath(folder, orders),
             "same_rows": SameRowsPath(folder, orders)}
    # a round is a batch at least (comparable transactions), but never more orders than there
    # are: --orders 500 with the default batch of 1000 ran no round at all
    per_round = min(orders, max(batch, orders // rounds))
    results = []
    for _ in range(rounds):
        if paths["bulk"].next + per_round > orders + 1:
            break
        seconds = {name: path.run(per_round, batch) for name, path in paths.items()}
        moves = per_round * len(STEPS)
        results.append({**{f"{n}_transitions_per_s": moves / s for n, s in seconds.items()},
                        "ratio": seconds["raw"] / seconds["bulk"],
                        "ratio_same_rows": seconds["same_rows"] / seconds["bulk"]})
    paths["bulk"].ctx.close()
    return {"benchmark": "bulk", "orders_per_round": per_round, "batch": batch,
            "rounds": results, "target": 0.35, **_medians(results)}


def _medians(results: list[dict]) -> dict:
    out = {}
    for key in results[0]:
        values = sorted(r[key] for r in results)
        out[f"{key}_median" if key.startswith("ratio") else key] = statistics.median(values)
        if key.startswith("ratio"):
            out[f"{key}_min"], out[f"{key}_max"] = values[0], values[-1]
    return out


def main(argv: list[str] | None = None) -> dict:
    level()  # NORMAL unless told: comparable with the history (bench/sqlite_level.py)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="orderpilot-bench-") as tmp:
        result = bench(Path(tmp), args.orders, args.batch, args.rounds)
    table = Table("round", "bulk transitions/s", "raw transitions/s", "bulk / raw",
                  "same rows raw/s", "bulk / same rows",
                  title=f"bulk path vs raw executemany ({result['orders_per_round']} orders x "
                        f"{len(STEPS)} steps per round, {args.batch} per transaction)")
    for n, r in enumerate(result["rounds"], start=1):
        table.add_row(str(n), f"{r['bulk_transitions_per_s']:.0f}",
                      f"{r['raw_transitions_per_s']:.0f}", f"{r['ratio']:.1%}",
                      f"{r['same_rows_transitions_per_s']:.0f}", f"{r['ratio_same_rows']:.1%}")
    Console().print(table)
    Console().print(f"bulk / raw floor: median {result['ratio_median']:.1%} (range "
                    f"{result['ratio_min']:.1%}–{result['ratio_max']:.1%}); target ≥ 35%; "
                    f"bulk / same rows raw: median {result['ratio_same_rows_median']:.1%}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
