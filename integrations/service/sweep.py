"""Deadline sweeps: fire every due timer, in batches, re-checking each one at fire time.

Unpaid-hold expiry is the bulk path (one guarded UPDATE per batch, stock released in one
statement per sku × warehouse, each order moved by `statemachine.fastfire`: the same step table
and guard, checked against `Lifecycle.fire` by a test); the other timers are few and go through
the per-entity path.
A stale row (its entity already moved on) is simply dropped: the guard makes sweeps harmless.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update

from integrations.db.repository import ORDER_COLS, ORDERS
from integrations.db.stock import _in_list
from integrations.service import aftersales, orders, shipments
from integrations.service.contention import retrying
from integrations.service.context import Context, Tx
from integrations.service.hooks import after_transitions
from statemachine import fastfire
from statemachine.errors import ConcurrentUpdate, GuardRejected, InvalidTransition
from statemachine.order import ORDER_LIFECYCLE, OrderState
from statemachine.policies import DeadlineKind
from statemachine.shipment import ShipmentState

STALL_REASONS = {DeadlineKind.PICKUP_DUE: "not picked up by the carrier in time",
                 DeadlineKind.SCAN_SILENCE: "no carrier scan for too long",
                 DeadlineKind.PROMISED_DELIVERY: "past the promised delivery date"}


def sweep(ctx: Context, now: datetime, batch: int) -> dict[str, int]:
    """Fire every deadline due at `now`; returns how many fired (and were stale) per kind.

    Rows whose order another transaction holds are passed over (`skipped`, left for the next
    sweep): a sweep never waits on, nor deadlocks with, a payment or a scan of the same order,
    and two sweepers share the due rows instead of queueing on them.
    """
    counts: Counter[str] = Counter()
    passed: set[int] = set()  # orders held by someone else during this sweep
    while True:
        read = _sweep_batch(ctx, now, batch, passed, counts)
        if read < batch:
            break
    return dict(counts)


@retrying("the deadline sweep")
def _sweep_batch(ctx: Context, now: datetime, batch: int, passed: set[int],
                 counts: Counter[str]) -> int:
    """One batch in one transaction; returns how many due rows it read."""
    found: Counter[str] = Counter()
    with ctx.tx() as tx:
        due = _due(tx, now, batch, passed)
        held = _lock_orders(tx, {row.order_id for row in due})
        claimed = _delete(tx, [row for row in due if row.order_id in held])
        by_kind: dict[str, list[Any]] = defaultdict(list)
        for row in claimed:
            by_kind[row.kind].append(row)
        for kind, rows in by_kind.items():
            found.update(_HANDLERS[DeadlineKind(kind)](ctx, tx, rows, now))
    skipped = {row.order_id for row in due} - held
    passed.update(skipped)
    counts.update(found)
    counts.update({"skipped": sum(row.order_id in skipped for row in due)} if skipped else {})
    return len(due)


@dataclass(frozen=True, slots=True)
class Due:
    id: int
    kind: str
    entity_id: int
    order_id: int


def _due(tx: Tx, now: datetime, batch: int, passed: set[int]) -> list[Due]:
    """The next batch of due timers, oldest first, read without locking (see `_lock_orders`)."""
    where, params = _in_list("order_id", sorted(passed)) if passed else ("", {})
    rows = tx.store.sql.all(
        "SELECT id, kind, entity_id, order_id FROM deadlines WHERE due_at <= :now"
        + (f" AND NOT {where}" if where else "") + " ORDER BY due_at, id LIMIT :batch",
        {"now": now, "batch": batch, **params})
    return [Due(*row) for row in rows]


def _lock_orders(tx: Tx, order_ids: set[int]) -> set[int]:
    """Lock these orders in id order, skipping those another transaction holds (PostgreSQL
    `FOR UPDATE SKIP LOCKED`); returns the ones now held. The order lock comes before its
    deadline rows, as on every write path (see `Store.lock_order`)."""
    if not order_ids or tx.store.sql.sqlite:  # SQLite: this write transaction is exclusive
        return order_ids
    where, params = _in_list("id", sorted(order_ids))
    return {r[0] for r in tx.store.sql.all(
        f"SELECT id FROM orders WHERE {where} ORDER BY id FOR UPDATE SKIP LOCKED", params)}


def _delete(tx: Tx, rows: list[Due]) -> list[Due]:
    """Delete the rows before firing them (a handler may arm new timers, and SQLite may reuse
    an id); a row a committed transaction removed meanwhile is no longer due and is dropped."""
    if not rows:
        return []
    where, params = _in_list("id", [row.id for row in rows])
    deleted = {r[0] for r in tx.store.sql.all(f"DELETE FROM deadlines WHERE {where} "
                                              "RETURNING id", params)}
    return [row for row in rows if row.id in deleted]


def _expire_holds(ctx: Context, tx: Tx, rows: list[Any], now: datetime) -> Counter[str]:
    """Bulk: expire unpaid orders whose hold lapsed and release their stock."""
    where, params = _in_list("id", [r.entity_id for r in rows])
    found = tx.store.sql.all(f"SELECT {ORDER_COLS} FROM orders WHERE {where}", params)
    expired, fired = [], []
    for row in found:
        order = tx.store.order_from_row(row, [])
        if ORDER_LIFECYCLE.can(order.state, "expire"):
            try:
                fired.append(fastfire.fire(ORDER_LIFECYCLE, order, "expire", at=now,
                                           actor="system:sweep",
                                           reason="unpaid when the stock hold lapsed"))
                expired.append(order)
            except GuardRejected:  # the hold was extended after this row was written
                tx.store.set_deadline("hold_expiry", "order", order.id, order.id,
                                      order.hold_expires_at)
    _bulk_save_expired(tx, expired, now)
    tx.stock.release([o.id for o in expired])
    tx.store.record_many([(f, o.id, o.id, orders.event_data(o))
                          for f, o in zip(fired, expired, strict=True)])
    after_transitions(ctx, tx, list(zip(expired, fired, strict=True)))
    return Counter({"hold_expiry": len(expired), "stale": len(rows) - len(expired)})


def _bulk_save_expired(tx: Tx, expired: list[Any], now: datetime) -> None:
    if not expired:
        return
    result = tx.connection.execute(
        update(ORDERS).where(ORDERS.c.id == bindparam("k_id"),
                             ORDERS.c.version == bindparam("k_version"),
                             ORDERS.c.state == OrderState.AWAITING_PAYMENT.value)
        .values(state=OrderState.EXPIRED.value, version=ORDERS.c.version + 1,
                hold_expires_at=None, updated_at=now),
        [{"k_id": o.id, "k_version": o.version} for o in expired])
    if result.rowcount != len(expired):  # someone paid or cancelled meanwhile: retry next sweep
        raise ConcurrentUpdate("order", "batch", -1)


def _escalate_review(ctx: Context, tx: Tx, rows: list[Any], now: datetime) -> Counter[str]:
    """A held order waited past its review SLA: announce it (the review flow escalates)."""
    counts: Counter[str] = Counter()
    for row in rows:
        order = tx.store.get_order(row.entity_id)
        if order.state is not OrderState.UNDER_REVIEW:
            counts["stale"] += 1
            continue
        tx.store.record_signal("review_overdue", "order", order.id, order.id, now,
                               orders.event_data(order))
        counts["review_sla"] += 1
    return counts


def _stall_parcels(ctx: Context, tx: Tx, rows: list[Any], now: datetime) -> Counter[str]:
    counts: Counter[str] = Counter()
    for row in rows:
        shipment = tx.store.get_shipment(row.entity_id)
        late_while_stalled = (row.kind == DeadlineKind.PROMISED_DELIVERY
                              and shipment.state is ShipmentState.STALLED)
        try:
            shipments.fire(ctx, tx, shipment, "mark_late" if late_while_stalled else "stall",
                           "system:logistics-watch",
                           {"reason": STALL_REASONS[DeadlineKind(row.kind)]})
            counts[row.kind] += 1
        except (InvalidTransition, GuardRejected):
            counts["stale"] += 1
    return counts


def _answer_overdue(ctx: Context, tx: Tx, rows: list[Any], now: datetime) -> Counter[str]:
    counts: Counter[str] = Counter()
    for row in rows:
        case = tx.store.get_case(row.entity_id)
        if case.state not in aftersales.AWAITING_ANSWER:
            counts["stale"] += 1
            continue
        tx.store.record_signal("sla_breached", "case", case.id, case.order_id, now,
                               {"case_id": case.public_id, "state": case.state.value})
        counts["aftersales_sla"] += 1
    return counts


def _auto_complete(ctx: Context, tx: Tx, rows: list[Any], now: datetime) -> Counter[str]:
    counts: Counter[str] = Counter()
    for row in rows:
        order = tx.store.get_order(row.entity_id)
        try:
            orders.fire(ctx, tx, order, "close", "system:auto-complete",
                        {"reason": "buyer did not confirm receipt in time"})
            counts["auto_complete"] += 1
        except (InvalidTransition, GuardRejected):
            counts["stale"] += 1
    return counts


_HANDLERS = {
    DeadlineKind.HOLD_EXPIRY: _expire_holds,
    DeadlineKind.REVIEW_SLA: _escalate_review,
    DeadlineKind.PICKUP_DUE: _stall_parcels,
    DeadlineKind.SCAN_SILENCE: _stall_parcels,
    DeadlineKind.PROMISED_DELIVERY: _stall_parcels,
    DeadlineKind.AFTERSALES_SLA: _answer_overdue,
    DeadlineKind.AUTO_COMPLETE: _auto_complete,
}

