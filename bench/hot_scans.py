"""Hot-path look-ups that read a whole table, against how much history the shop holds.

    python bench/hot_scans.py [--sizes 10000 100000 300000] [--lookups 500]
                              [--only NAME ...] [--out bench/results/hot_scans.json]

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
With `--only` among the shop's look-ups (size orders over a year, their payment operations,
size webhook events; migration 0015):
  abandoned         the money sweep's abandoned payments, old SQL (the whole history)
  health            the console's health counts, ix_orders_created_at dropped
  webhook_outcomes  the console's webhook outcomes, ix_webhook_events_outcome dropped
  search_ref        the order search by a payment ref: with ix_orders_payment_ref (which the
                    product does not have) vs without
  order_update      the writer's UPDATE of a paid order, with that index vs without
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

if not __package__:  # run as `python bench/hot_scans.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select, text  # noqa: E402

from bench.sizes import by_size  # noqa: E402
from integrations.bootstrap import build_context  # noqa: E402
from integrations.db.health_counts import health_counts, inbound_webhook_outcomes  # noqa: E402
from integrations.db.money_store import SWEEP_CHECKOUTS, MoneyStore  # noqa: E402
from integrations.db.reports import find_orders  # noqa: E402
from integrations.db.review_tasks import ORDERS, OUTBOX, TASKS, review_tasks  # noqa: E402
from integrations.db.risk_signals import list_candidates  # noqa: E402
from integrations.db.rows import ORDERS as ORDER_ROWS  # noqa: E402
from integrations.db.schema import REVIEW_OVERDUE  # noqa: E402

T = "2026-11-11 00:00:00.000000"
NOW = datetime(2026, 11, 12, tzinfo=UTC)
OPEN = 50
OLD_LATEST = ("SELECT id FROM payment_operations WHERE idem_key = :b OR substr(idem_key, 1, :n)"
              " = :p ORDER BY id DESC LIMIT 1")
OLD_FIRED = ("SELECT at FROM transition_history WHERE entity = 'shipment' AND entity_id = :s "
             "AND \"trigger\" = 'stall' ORDER BY id DESC")
BEFORE_0015 = (  # the abandoned-payment look-up before 0015, and its copy in the tests
    "SELECT c.order_id, c.provider_ref FROM payment_operations c JOIN orders o ON o.id = "
    "c.order_id WHERE c.kind = 'checkout' AND c.status = 'succeeded' AND c.provider_ref IS NOT "
    "NULL AND {u} AND {n} ORDER BY c.id LIMIT 100",
    "SELECT o.id, o.payment_ref FROM orders o WHERE {u} AND o.payment_ref IS NOT NULL AND {m} "
    "ORDER BY o.id LIMIT 100")
UNTOUCHED = ("NOT EXISTS (SELECT 1 FROM payment_operations v WHERE v.order_id = o.id AND "
             "(v.kind IN ('void', 'refund') OR v.kind = 'capture' AND v.status <> 'failed') "
             "AND v.payment_ref = {ref})")
OLD_ABANDONED = [q.format(u="o.paid = 0 AND o.state IN ('expired', 'cancelled', 'rejected')",
                          n=UNTOUCHED.format(ref="c.provider_ref"),
                          m=UNTOUCHED.format(ref="o.payment_ref")) for q in BEFORE_0015]
PAYMENT_REF = "CREATE INDEX ix_orders_payment_ref ON orders (payment_ref)"
INDEXES = {
    "ix_payment_operations_provider_ref":
        "CREATE INDEX ix_payment_operations_provider_ref ON payment_operations (provider_ref)",
    "ix_risk_lists_match": "CREATE INDEX ix_risk_lists_match ON risk_blacklist_entries "
                           "(kind, value)",
    "ix_outbox_review_overdue": "CREATE INDEX ix_outbox_review_overdue ON outbox (order_id, "
                                f"created_at) WHERE event = '{REVIEW_OVERDUE}'",
    "ix_orders_created_at": "CREATE INDEX ix_orders_created_at ON orders (created_at)",
    "ix_webhook_events_outcome": "CREATE INDEX ix_webhook_events_outcome ON webhook_events "
                                 "(source, status_code, applied)",
}
HISTORY = ("money_key", "payment_ref", "stall_chase", "review_queue", "block_lists")
SHOP = ("abandoned", "health", "webhook_outcomes", "search_ref", "order_update")


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


DAY = 86_400
ABANDONED = 20  # open: expired / cancelled with a payment never released


def _stamp(size: int, n: int) -> str:
    """Order n of `size` placed over the year to NOW, in id order."""
    return (NOW - timedelta(days=365) * (1 - n / size)).strftime("%Y-%m-%d %H:%M:%S.%f")


def _order(size: int, n: int) -> tuple[str, int, int, bool, str]:
    """(state, paid, refunded, payment opened?, its end: capture | void | refund | open)."""
    k = n % 100
    if n > size - size // 50 and k >= 95:  # the last week or so: still moving
        state = ("awaiting_payment", "under_review", "created", "paid", "picking")[k - 95]
        return (state, 100, 0, True, "capture") if k >= 98 else (state, 0, 0, k == 95, "open")
    if n % (size // ABANDONED) == 7:
        return ("expired" if n % 2 else "cancelled"), 0, 0, True, "open"
    if k < 70 or k >= 95:
        return ("completed" if k < 68 or k >= 95 else "delivered"), 100, 0, True, "capture"
    if k < 80:
        return "expired", 0, 0, False, ""
    if k < 85:
        return "expired", 0, 0, True, "void"
    if k < 90:
        return "cancelled", 0, 0, False, ""
    if k < 92:
        return "rejected", 0, 0, False, ""
    return "cancelled", 100, 100, True, "refund"


def _fill_orders(path: Path, size: int) -> None:
    """`size` orders over a year (70 % completed, 15 % expired, 8 % cancelled, 2 % rejected,
    the last ~2 % still moving), their payment operations (a checkout when the buyer opened a
    payment, then its capture, release or refund), `size` webhook events, a review task per
    33 orders, a hold timer per live order; ABANDONED payments left open."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA foreign_keys = OFF")
    orders, ops, hooks, tasks, timers = [], [], [], [], []
    for n in range(1, size + 1):
        state, paid, refunded, opened, end = _order(size, n)
        at, ref = _stamp(size, n), f"pi_{n}"
        own_ref = ref if paid or (end == "open" and n % 4 == 1) or (end == "void" and n % 2) \
            else None
        orders.append((n, state, paid, refunded, own_ref, at))
        if opened:
            ops.append((n, "checkout", "succeeded", f"checkout:s-{n}", None, ref, at))
        if end in ("capture", "refund"):
            ops.append((n, "capture", "succeeded", f"capture:s-{n}", ref, None, at))
        if end in ("void", "refund"):
            ops.append((n, end, "succeeded", f"{end}:s-{n}:{ref}", ref, None, at))
        source = ("stripe", "alipay", "kuaidi100", "aftership")[n % 4]
        hooks.append((f"{source}:e{n}", source, n, 400 if n % 50 == 0 else 200, n % 7 != 0, at))
        if n % 33 == 0:
            tasks.append((n, at))
        if state in ("awaiting_payment", "under_review", "created"):
            timers.append((n, at))
    db.executemany(
        "INSERT OR IGNORE INTO orders (id, buyer_id, state, version, currency, total, paid, "
        "refunded, payment_ref, attrs, created_at, updated_at) VALUES (?, 'b', ?, 1, 'CNY', "
        "100, ?, ?, ?, '{}', ?, ?)", ((*o, o[-1]) for o in orders))
    db.executemany(
        "INSERT INTO payment_operations (order_id, kind, status, amount, currency, idem_key, "
        "provider, payment_ref, provider_ref, lines, purpose, actor, attempts, created_at) "
        "VALUES (?, ?, ?, 100, 'CNY', ?, 'stripe', ?, ?, '[]', '{}', 'b', 0, ?)", ops)
    db.executemany(
        "INSERT INTO webhook_events (key, source, kind, order_id, body_sha256, applied, "
        "status_code, response, received_at) VALUES (?, ?, 'payment', ?, '', ?, ?, '{}', ?)",
        ((k, s, o, applied, code, at) for k, s, o, code, applied, at in hooks))
    db.executemany(
        "INSERT OR IGNORE INTO review_tasks (order_id, opened_at, due_at, reasons, score, "
        "decided_at) VALUES (?, ?, ?, '[]', 0.9, ?)", ((o, at, at, at) for o, at in tasks))
    db.executemany(
        "INSERT INTO deadlines (kind, entity, entity_id, order_id, due_at) "
        "VALUES ('hold_expiry', 'order', ?, ?, ?)", ((o, o, at) for o, at in timers))
    db.execute(SWEEP_CHECKOUTS.replace(":at", "'2026-11-12 00:00:00.000000'"))  # as 0015 does
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


def _time(ctx, calls: list[Callable], readonly: bool = True) -> float:
    """Median µs of one call (each gets the transaction), in one transaction."""
    times = []
    with ctx.tx(readonly=readonly) as tx:
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
    wanted = [[("phone", f"v{rng.randrange(size // 10)}"), ("device", f"v{n}")] for n in orders]

    queues = max(3, min(30, 20_000_000 // (size * 10)))
    return {**_history_cases(orders, few, wanted, queues), **_shop_cases(size, lookups)}


def _history_cases(orders, few, wanted, queues):
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

    return {
        "money_key": ([latest(o) for o in orders], [latest_old(o) for o in few], None),
        "payment_ref": ([ref(o) for o in orders], [ref(o) for o in few],
                        "ix_payment_operations_provider_ref"),
        "stall_chase": ([fired(o) for o in orders], [fired_old(o) for o in few], None),
        "review_queue": ([queue] * 30, [queue_old] * queues, "ix_outbox_review_overdue"),
        "block_lists": ([lists(w) for w in wanted], [lists(w) for w in wanted[:len(few)]],
                        "ix_risk_lists_match"),
    }


def _shop_cases(size: int, lookups: int) -> dict[str, tuple[list, list, str | None]]:
    """The money sweep's look-up, the console's counts, the order search by payment ref and
    the writer's UPDATE of an order (the last two: with ix_orders_payment_ref vs without)."""
    rng = random.Random(size + 1)
    paid = [n for n in (rng.randrange(1, size + 1) for _ in range(lookups * 3))
            if _order(size, n)[1]][:lookups]
    versions = dict.fromkeys(paid, 1)

    def abandoned(tx):
        assert len(MoneyStore(tx.store.sql).abandoned_checkouts(100)) == ABANDONED

    def abandoned_old(tx):
        assert len({r for q in OLD_ABANDONED for r in tx.store.sql.all(q)}) == ABANDONED

    def health(tx):
        health_counts(tx.connection, NOW, timedelta(hours=24))

    def outcomes(tx):
        assert len(inbound_webhook_outcomes(tx.connection)) >= 8

    def search(o):
        return lambda tx: find_orders(tx.connection, limit=50, text=f"pi_{o}")

    def update(o):
        def run(tx):
            v = versions[o]
            tx.store.sql.run(ORDER_ROWS.update, {
                "state": ("completed", "delivered")[v % 2], "paid": 100, "refunded": 0,
                "payment_ref": f"pi_{o}", "hold_expires_at": None, "attrs": "{}", "id": o,
                "version": v, "new_version": v + 1, "at": T})
            versions[o] = v + 1
        return run

    rounds = max(3, min(30, 5_000_000 // size))
    return {
        "abandoned": ([abandoned] * rounds, [abandoned_old] * 3, None),
        "health": ([health] * rounds, [health] * 3, "ix_orders_created_at"),
        "webhook_outcomes": ([outcomes] * rounds, [outcomes] * 3, "ix_webhook_events_outcome"),
        "search_ref": ([search(o) for o in paid], [search(o) for o in paid[:3]],
                       "+ix_orders_payment_ref"),
        "order_update": ([update(o) for o in paid], [update(o) for o in paid],
                         "+ix_orders_payment_ref"),
    }


def _index(path: Path, index: str | None, make: bool) -> None:
    if index:
        name = index.lstrip("+")
        db = sqlite3.connect(path)
        db.execute((INDEXES.get(name) or PAYMENT_REF) if make else f"DROP INDEX {name}")
        db.close()


def measure(size: int, lookups: int, only: list[str] | None = None, rounds: int = 3) -> dict:
    """`only`: the look-ups of HISTORY (10 x size history and outbox rows) or SHOP (size
    orders, payments and webhook events), or both (the default)."""
    result: dict = {"size": size}
    wanted = set(only or (*HISTORY, *SHOP))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "shop.db"
        ctx = build_context(f"sqlite:///{path}")
        if wanted & set(HISTORY):
            _fill(path, size)
        if wanted & set(SHOP):
            _fill_orders(path, size)
        for name, (new, old, index) in _cases(size, lookups).items():
            if name not in wanted:
                continue
            extra = bool(index and index.startswith("+"))  # an index the product does not have
            after, before = [], []
            for _ in range(rounds):  # taking turns: the machine's drift hits both
                _index(path, index, make=True) if extra else None
                after.append(_time(ctx, new, readonly=name != "order_update"))
                _index(path, index, make=False)
                before.append(_time(ctx, old, readonly=name != "order_update"))
                _index(path, index, make=True) if not extra else None
            a, b = statistics.median(after), statistics.median(before)
            result[name] = {"now_us": round(a, 1), "before_us": round(b, 1),
                            "speedup": round(b / a, 2)}
        ctx.close()
    return result


def main(argv: list[str] | None = None) -> list[dict]:
    return by_size("hot_scans", __doc__, measure, [10_000, 100_000, 300_000], 500, argv,
                   choices=(*HISTORY, *SHOP))

if __name__ == "__main__":
    main()
