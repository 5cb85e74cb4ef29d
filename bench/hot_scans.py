"""Hot-path look-ups that read a whole table, against how much history the shop holds.

    python bench/hot_scans.py [--sizes 10000 100000 300000] [--lookups 500]
                              [--out bench/results/hot_scans.json]

Found with bench/sql_capture.py + bench/query_plans.py (every statement the integration tests and
the demos run, EXPLAIN QUERY PLAN on each). For each size, a fresh SQLite file with the product's
schema gets that many raw rows in each table below (only the look-up is timed), then each
look-up runs through the product's function, taking turns with how it ran before (in one
process): the old SQL, or the new index dropped.

  money_key     a capture / void / refund's idempotency key (`MoneyStore.latest`, each payment
                webhook that authorises, each capture): payment_operations, old SQL (no order)
  payment_ref   a payment webhook without our order id (`MoneyStore.order_of_payment`):
                payment_operations, ix_payment_operations_provider_ref dropped
  stall_chase   the stall chaser, per stalled parcel (`Repository.last_fired_at`):
                transition_history (size x 10 rows), old SQL (no order)
  review_queue  the review queue list, 50 open tasks (`review_tasks`): outbox (size x 10
                rows, 1 in 1,000 an escalation), old SQL (outbox grouped by order) and
                ix_outbox_review_overdue dropped
  block_lists   a placement's block / allow list candidates (`list_candidates`):
                risk_blacklist_entries (size / 10 entries), ix_risk_lists_match dropped
Reported: median µs per look-up each way and their ratio.
"""

from __future__ import annotations

import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

if not __package__:  # run as `python bench/hot_scans.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select, text  # noqa: E402

from bench.sizes import by_size  # noqa: E402
from integrations.bootstrap import build_context  # noqa: E402
from integrations.db.money_store import MoneyStore  # noqa: E402
from integrations.db.review_tasks import ORDERS, OUTBOX, TASKS, review_tasks  # noqa: E402
from integrations.db.risk_signals import list_candidates  # noqa: E402
from integrations.db.schema import REVIEW_OVERDUE  # noqa: E402

T = "2026-11-11 00:00:00.000000"
NOW = datetime(2026, 11, 12, tzinfo=UTC)
OPEN = 50
OLD_LATEST = ("SELECT id FROM payment_operations WHERE idem_key = :b OR substr(idem_key, 1, :n)"
              " = :p ORDER BY id DESC LIMIT 1")
OLD_FIRED = ("SELECT at FROM transition_history WHERE entity = 'shipment' AND entity_id = :s "
             "AND \"trigger\" = 'stall' ORDER BY id DESC")
INDEXES = {
    "ix_payment_operations_provider_ref":
        "CREATE INDEX ix_payment_operations_provider_ref ON payment_operations (provider_ref)",
    "ix_risk_lists_match": "CREATE INDEX ix_risk_lists_match ON risk_blacklist_entries "
                           "(kind, value)",
    "ix_outbox_review_overdue": "CREATE INDEX ix_outbox_review_overdue ON outbox (order_id, "
                                f"created_at) WHERE event = '{REVIEW_OVERDUE}'",
}


def _fill(path: Path, size: int) -> None:
    """Raw rows: `size` payment operations, 10 x `size` history and outbox rows, `size` / 10
    list entries, 50 open review tasks (and their orders)."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA foreign_keys = OFF")
    db.executemany(
        "INSERT INTO payment_operations (order_id, kind, status, amount, currency, idem_key, "
        "provider, payment_ref, provider_ref, lines, purpose, actor, attempts, created_at) "
        "VALUES (?, 'capture', 'succeeded', 100, 'CNY', ?, 'stripe', ?, ?, '[]', '{}', 'b', 0, ?)",
        ((n, f"capture:o-{n}", f"pay_{n}", f"pi_{n}", T) for n in range(1, size + 1)))
    db.executemany(
        "INSERT INTO transition_history (entity, entity_id, order_id, \"trigger\", from_state, "
        "to_state, actor, at, payload) VALUES ('shipment', ?, ?, ?, 'in_transit', 'stalled', "
        "'system', ?, '{}')",
        ((n // 10 + 1, n // 10 + 1, "stall" if n % 10 == 0 else "scan", T)
         for n in range(size * 10)))
    db.executemany(
        "INSERT INTO outbox (event, entity, entity_id, order_id, payload, created_at) "
        "VALUES (?, 'order', ?, ?, '{}', ?)",
        ((REVIEW_OVERDUE if n % 1000 == 0 else "orderpilot.order.paid", n // 10 + 1,
          n // 10 + 1, T) for n in range(size * 10)))
    db.executemany(
        "INSERT INTO risk_blacklist_entries (list_name, kind, value, reason, evidence_order_ids, "
        "created_by, created_at) VALUES ('block', ?, ?, 'fraud', '[]', 'staff', ?)",
        (("phone" if n % 2 else "device", f"v{n}", T) for n in range(size // 10)))
    tasks = [size - 100 * n for n in range(OPEN)]  # orders with an escalation too
    db.executemany(
        "INSERT INTO orders (id, buyer_id, state, version, currency, total, paid, refunded, "
        "attrs, created_at, updated_at) VALUES (?, 'b', 'under_review', 1, 'CNY', 100, 0, 0, "
        "'{}', ?, ?)", ((o, T, T) for o in tasks))
    db.executemany(
        "INSERT INTO review_tasks (order_id, opened_at, due_at, reasons, score) "
        "VALUES (?, ?, ?, '[]', 0.9)", ((o, T, T) for o in tasks))
    db.commit()
    db.close()


def old_review_tasks(connection) -> list[dict]:
    """The review queue's read before 0014 (open tasks): the outbox grouped by order."""
    escalated = (select(OUTBOX.c.order_id, func.min(OUTBOX.c.created_at).label("at"))
                 .where(OUTBOX.c.event == REVIEW_OVERDUE).group_by(OUTBOX.c.order_id)
                 .subquery())
    query = (select(TASKS, ORDERS.c.buyer_id, ORDERS.c.total, ORDERS.c.currency,
                    ORDERS.c.state, escalated.c.at.label("escalated_at"))
             .join(ORDERS, ORDERS.c.id == TASKS.c.order_id)
             .outerjoin(escalated, escalated.c.order_id == TASKS.c.order_id)
             .where(TASKS.c.decided_at.is_(None)))
    return [dict(r) for r in connection.execute(query).mappings()]


def _time(ctx, calls: list[Callable]) -> float:
    """Median µs of one call (each gets the transaction), in one read-only transaction."""
    times = []
    with ctx.tx(readonly=True) as tx:
        for call in calls:
            start = time.perf_counter()
            call(tx)
            times.append((time.perf_counter() - start) * 1e6)
    return statistics.median(times)


def _cases(size: int, lookups: int) -> dict[str, tuple[list, list, str | None]]:
    """name -> (new calls, old calls, index dropped for the old way or None)."""
    rng = random.Random(size)
    orders = [rng.randrange(1, size + 1) for _ in range(lookups)]
    few = orders[:max(3, min(lookups, 20_000_000 // (size * 10)))]  # old ways: keep it short
    wanted = [{"phone": f"v{rng.randrange(size // 10)}", "device": f"v{n}"} for n in orders]

    def latest(o):
        return lambda tx: MoneyStore(tx.store.sql).latest(f"capture:o-{o}", o)

    def latest_old(o):
        b = f"capture:o-{o}"
        return lambda tx: tx.store.sql.one(OLD_LATEST, {"b": b, "p": b + ":", "n": len(b) + 1})

    def ref(o):
        return lambda tx: MoneyStore(tx.store.sql).order_of_payment(f"pi_{o}")

    def fired(o):
        return lambda tx: tx.store.last_fired_at("shipment", o, o, "stall")

    def fired_old(o):
        return lambda tx: tx.connection.execute(text(OLD_FIRED), {"s": o}).scalar()

    def lists(w):
        return lambda tx: list_candidates(tx.store.sql, w, NOW)

    def queue(tx):
        assert len(review_tasks(tx.connection, REVIEW_OVERDUE, False)) == OPEN

    def queue_old(tx):
        assert len(old_review_tasks(tx.connection)) == OPEN

    queues = max(3, min(30, 20_000_000 // (size * 10)))
    return {
        "money_key": ([latest(o) for o in orders], [latest_old(o) for o in few], None),
        "payment_ref": ([ref(o) for o in orders], [ref(o) for o in few],
                        "ix_payment_operations_provider_ref"),
        "stall_chase": ([fired(o) for o in orders], [fired_old(o) for o in few], None),
        "review_queue": ([queue] * 30, [queue_old] * queues, "ix_outbox_review_overdue"),
        "block_lists": ([lists(w) for w in wanted], [lists(w) for w in wanted[:len(few)]],
                        "ix_risk_lists_match"),
    }


def _drop(path: Path, index: str | None, make: bool) -> None:
    if index:
        db = sqlite3.connect(path)
        db.execute(INDEXES[index] if make else f"DROP INDEX {index}")
        db.close()


def measure(size: int, lookups: int, rounds: int = 3) -> dict:
    result: dict = {"size": size}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "shop.db"
        ctx = build_context(f"sqlite:///{path}")
        _fill(path, size)
        for name, (new, old, index) in _cases(size, lookups).items():
            after, before = [], []
            for _ in range(rounds):  # taking turns: the machine's drift hits both
                after.append(_time(ctx, new))
                _drop(path, index, make=False)
                before.append(_time(ctx, old))
                _drop(path, index, make=True)
            a, b = statistics.median(after), statistics.median(before)
            result[name] = {"now_us": round(a, 1), "before_us": round(b, 1),
                            "speedup": round(b / a, 1)}
        ctx.close()
    return result


def main(argv: list[str] | None = None) -> list[dict]:
    return by_size("hot_scans", __doc__, measure, [10_000, 100_000, 300_000], 500, argv)

if __name__ == "__main__":
    main()
