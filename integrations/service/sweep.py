"""Deadline sweeps: fire every due timer, in batches, re-checking each one at fire time.

Each batch of due rows goes through the same pipeline as a single API call, a kind at a time
(hold expiries are the big batches: one version-checked UPDATE, stock released in one
statement per sku × warehouse). Every write of a sweep carries the `now` it was given.
A stale row (its entity already moved on) is simply dropped: the guard makes sweeps harmless.
A batch fires in rounds of one timer per order, oldest first, and drops a row an earlier step
of the batch cleared or re-armed, so any batch size leaves what one timer at a time leaves.

Concurrency: the sweep takes the *orders* of the due timers with SKIP LOCKED (PostgreSQL)
before it deletes any timer — the order lock comes first on every write path — so it never
waits on an order a payment, a scan or a buyer is moving; the skipped timers stay for the next
sweep. Two sweepers take disjoint sets of orders. A batch that collides anyway (deadlock,
serialization failure) is re-run whole (`contention.retrying`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from integrations.db.repository import Due
from integrations.service import disputes, pipeline
from integrations.service.collector import paused_for
from integrations.service.contention import retrying
from integrations.service.context import Context, Tx
from integrations.service.kinds import ORDER, SHIPMENT
from integrations.service.money_requests import key_for, request
from statemachine.aftersales import AWAITING_ANSWER
from statemachine.errors import GuardRejected
from statemachine.money import OperationKind
from statemachine.order_aggregate import OrderState
from statemachine.policies import DeadlineKind
from statemachine.shipment import ShipmentState

STALL_REASONS = {DeadlineKind.PICKUP_DUE: "not picked up by the carrier in time",
                 DeadlineKind.SCAN_SILENCE: "no carrier scan for too long",
                 DeadlineKind.PROMISED_DELIVERY: "past the promised delivery date"}


def sweep(ctx: Context, now: datetime, batch: int) -> dict[str, int]:
    """Fire every deadline due at `now`; returns how many fired (and were stale) per kind.

    Timers of orders another transaction holds are passed over (`skipped`, left for the next
    sweep), so a sweep never waits on, nor deadlocks with, a payment or a scan of the same
    order, and two sweepers share the due rows instead of queueing on them.
    """
    counts: Counter[str] = Counter()
    passed: set[int] = set()  # orders held by another transaction during this sweep
    while _sweep_batch(ctx, now, batch, passed, counts) == batch:
        pass
    return dict(counts)


@retrying("the deadline sweep")
def _sweep_batch(ctx: Context, now: datetime, batch: int, passed: set[int],
                 counts: Counter[str]) -> int:
    """One batch in one transaction (re-run whole on a collision); returns the rows read."""
    fired: Counter[str] = Counter()
    with paused_for(batch), ctx.tx() as tx:  # what a batch loads lives until it ends
        due = tx.store.due_deadlines(now, batch, sorted(passed))
        taken, skipped = tx.store.take_due(due, now)
        if _releases_in_passes(taken):
            tx.stock.lock_held_rows([row.order_id for row in taken
                                     if DeadlineKind(row.kind) in RELEASING])
        moved_on = 0
        for part in _rounds(taken):
            live = [row for row in part if (row.entity, row.entity_id, row.kind)
                    not in tx.writer.timers_touched]
            moved_on += len(part) - len(live)
            by_kind: dict[str, list[Due]] = defaultdict(list)
            for row in live:
                by_kind[row.kind].append(row)
            for kind, rows in by_kind.items():
                fired.update(_HANDLERS[DeadlineKind(kind)](ctx, tx, rows, now))
    passed.update(row.order_id for row in skipped)
    counts.update(fired)
    counts.update({"skipped": len(skipped)} if skipped else {})
    counts.update({"stale": moved_on} if moved_on else {})
    # a dropped row may have been re-armed still due: read again, as one row at a time would
    return batch if moved_on else len(due)


# the timers whose steps give stock back (expire, reject): each kind is a pass of its own
RELEASING = frozenset({DeadlineKind.HOLD_EXPIRY, DeadlineKind.PAYMENT_DUE,
                       DeadlineKind.VERIFICATION_DUE})


def _releases_in_passes(taken: list[Due]) -> bool:
    """Whether the batch gives stock back in more than one pass (two kinds, or one order's
    two timers in two rounds): each pass sorts its own inventory rows, so a second pass could
    lock a row ordered before one the first took — a circle with a placement holding it and
    waiting for the other (races/test_sweep_stock_order_races.py). Such a batch locks its
    orders' held rows first, in the lock order (`StockStore.lock_held_rows`)."""
    releasing = [row for row in taken if DeadlineKind(row.kind) in RELEASING]
    return len({row.kind for row in releasing}) > 1 or \
        len({row.order_id for row in releasing}) < len(releasing)


def _rounds(rows: list[Due]) -> list[list[Due]]:
    """Cut the due rows (oldest first) before each row of an order already in its round.

    Within a round every order has one timer, so firing the round kind by kind keeps each
    order's timers in due order; a later round sees what the earlier ones wrote, and a timer
    an earlier step cleared or re-armed is dropped (`timers_touched`), exactly as when one
    timer is swept per transaction.
    """
    parts: list[list[Due]] = [[]]
    seen: set[int] = set()
    for row in rows:
        if row.order_id in seen:
            parts.append([])
            seen = set()
        parts[-1].append(row)
        seen.add(row.order_id)
    return [part for part in parts if part]


WAITING_FOR = {DeadlineKind.HOLD_EXPIRY: (OrderState.AWAITING_PAYMENT,
                                          "unpaid when the stock hold lapsed"),
               DeadlineKind.PAYMENT_DUE: (OrderState.PAYMENT_PENDING,
                                          "the payment did not settle in time")}


def _expire_holds(ctx: Context, tx: Tx, rows: list[Due], now: datetime) -> Counter[str]:
    """Bulk: expire orders whose hold lapsed unpaid, or whose started payment did not settle
    in time; the step releases their stock (the money sweep releases the payment)."""
    kind = DeadlineKind(rows[0].kind)
    state, reason = WAITING_FOR[kind]
    orders = tx.store.orders([r.entity_id for r in rows], with_lines=False)
    moves = [pipeline.Move(order, "expire", now, "system:sweep", {"reason": reason})
             for order in _in_due_order(orders, rows) if order.state is state]
    fired, refused = pipeline.run(ctx, tx, ORDER, moves)
    for refusal in refused:
        order = refusal.move.aggregate
        if isinstance(refusal.error, GuardRejected):  # the hold was extended after this row
            tx.writer.arm(kind, "order", order.id, order.id, order.hold_expires_at)
    return Counter({kind.value: len(fired), "stale": len(rows) - len(fired)})


def _capture_before_lapse(ctx: Context, tx: Tx, rows: list[Due], now: datetime
                          ) -> Counter[str]:
    """An authorisation kept for capture at shipping is about to lapse and the order has not
    shipped: capture it now (recorded here, made by the money sweep) so the sale stands."""
    orders = tx.store.orders([r.entity_id for r in rows], with_lines=False)
    due = [order for order in _in_due_order(orders, rows) if order.authorisation]
    for order in due:  # locked by take_due
        held = order.authorisation
        request(ctx, tx, order, OperationKind.CAPTURE, held["amount"],
                key_for(tx, f"capture:{order.public_id}", order.id), "system:sweep",
                payment_ref=held["payment_ref"], reason="the authorisation would lapse", at=now)
    return +Counter({"authorisation_expiry": len(due), "stale": len(rows) - len(due)})


def _verification_lapsed(ctx: Context, tx: Tx, rows: list[Due], now: datetime
                         ) -> Counter[str]:
    """The buyer did not answer the step-up challenge in time: reject (stock released)."""
    orders = tx.store.orders([r.entity_id for r in rows], with_lines=False)
    moves = [pipeline.Move(order, "reject", now, "system:sweep",
                           {"reason": "verification not answered in time"})
             for order in _in_due_order(orders, rows) if order.state is OrderState.VERIFYING]
    fired, _ = pipeline.run(ctx, tx, ORDER, moves)
    return Counter({"verification_due": len(fired), "stale": len(rows) - len(fired)})


def _escalate_review(ctx: Context, tx: Tx, rows: list[Due], now: datetime) -> Counter[str]:
    """A held order waited past its review SLA: announce it (the review flow escalates)."""
    orders = tx.store.orders([r.entity_id for r in rows], with_lines=False)
    waiting = [o for o in _in_due_order(orders, rows) if o.state is OrderState.UNDER_REVIEW]
    for order in waiting:
        tx.writer.signal("review_overdue", "order", order.id, order.id, now,
                         ORDER.event_data(tx, order))
    return +Counter({"review_sla": len(waiting), "stale": len(rows) - len(waiting)})


def _stall_parcels(ctx: Context, tx: Tx, rows: list[Due], now: datetime) -> Counter[str]:
    """Quiet parcels stall (alert); one already stalled when its promise passes is late."""
    parcels = tx.store.shipments([r.entity_id for r in rows])
    moves = {id(row): pipeline.Move(
        parcel, "mark_late" if row.kind == DeadlineKind.PROMISED_DELIVERY
        and parcel.state is ShipmentState.STALLED else "stall", now, "system:logistics-watch",
        {"reason": STALL_REASONS[DeadlineKind(row.kind)]})
        for row in rows if (parcel := parcels.get(row.entity_id)) is not None}
    _, refused = pipeline.run(ctx, tx, SHIPMENT, list(moves.values()))
    stale = {id(r.move) for r in refused}
    return +Counter("stale" if id(moves.get(id(row))) in stale or id(row) not in moves
                    else row.kind for row in rows)


def _answer_overdue(ctx: Context, tx: Tx, rows: list[Due], now: datetime) -> Counter[str]:
    counts: Counter[str] = Counter()
    for row in rows:
        case = tx.store.get_case(row.entity_id)
        if case.state not in AWAITING_ANSWER:
            counts["stale"] += 1
            continue
        tx.writer.signal("sla_breached", "case", case.id, case.order_id, now,
                         {"case_id": case.public_id, "state": case.state.value})
        counts["aftersales_sla"] += 1
    return counts


def _auto_complete(ctx: Context, tx: Tx, rows: list[Due], now: datetime) -> Counter[str]:
    orders = tx.store.orders([r.entity_id for r in rows])
    moves = [pipeline.Move(order, "close", now, "system:auto-complete",
                           {"reason": "buyer did not confirm receipt in time"})
             for order in _in_due_order(orders, rows)]
    fired, _ = pipeline.run(ctx, tx, ORDER, moves)
    return +Counter({"auto_complete": len(fired), "stale": len(rows) - len(fired)})


def _in_due_order(loaded: dict[int, Any], rows: list[Due]) -> list[Any]:
    """The loaded aggregates in the order their timers fell due (what each step's hooks see
    first, the buyer's credit for one, is then the same for any batch size)."""
    return [loaded[row.entity_id] for row in rows if row.entity_id in loaded]


Handler = Callable[[Context, Tx, list[Due], datetime], Counter[str]]
_HANDLERS: dict[DeadlineKind, Handler] = {
    DeadlineKind.HOLD_EXPIRY: _expire_holds,
    DeadlineKind.PAYMENT_DUE: _expire_holds,
    DeadlineKind.AUTHORISATION_EXPIRY: _capture_before_lapse,
    DeadlineKind.REVIEW_SLA: _escalate_review,
    DeadlineKind.VERIFICATION_DUE: _verification_lapsed,
    DeadlineKind.PICKUP_DUE: _stall_parcels,
    DeadlineKind.SCAN_SILENCE: _stall_parcels,
    DeadlineKind.PROMISED_DELIVERY: _stall_parcels,
    DeadlineKind.AFTERSALES_SLA: _answer_overdue,
    DeadlineKind.AUTO_COMPLETE: _auto_complete,
    DeadlineKind.DISPUTE_EVIDENCE: disputes.evidence_due_alert,
}
