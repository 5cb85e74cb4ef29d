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
from integrations.service import aftersales, disputes, orders, shipments
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
    """Fire every deadline due at `now`; returns how many fired (and were stale) per kind."""
    counts: Counter[str] = Counter()
    while True:
        with ctx.tx() as tx:
            due = _due(tx, now, batch)
            if not due:
                break
            # Delete first: a handler may arm new timers, and SQLite may reuse a deleted id.
            where, params = _in_list("id", [row.id for row in due])
            tx.store.sql.run(f"DELETE FROM deadlines WHERE {where}", params)
            by_kind: dict[str, list[Any]] = defaultdict(list)
            for row in due:
                by_kind[row.kind].append(row)
            for kind, rows in by_kind.items():
                counts.update(_HANDLERS[DeadlineKind(kind)](ctx, tx, rows, now))
        if len(due) < batch:
            break
    return dict(counts)


@dataclass(frozen=True, slots=True)
class Due:
    id: int
    kind: str
    entity_id: int


def _due(tx: Tx, now: datetime, batch: int) -> list[Due]:
    """The next batch of due timers, oldest first (PostgreSQL: skipping rows others hold)."""
    lock = "" if tx.store.sql.sqlite else " FOR UPDATE SKIP LOCKED"
    rows = tx.store.sql.all("SELECT id, kind, entity_id FROM deadlines WHERE due_at <= :now "
                            f"ORDER BY due_at LIMIT :batch{lock}", {"now": now, "batch": batch})
    return [Due(*row) for row in rows]


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
    DeadlineKind.DISPUTE_EVIDENCE: disputes.evidence_due_alert,
}

