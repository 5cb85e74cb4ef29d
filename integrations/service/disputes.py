"""Disputes (chargebacks): opened by the provider's webhook, answered with evidence a person
confirms, closed by the bank. A lost or conceded dispute books the chargeback on the order
(never past what was paid: refunds in flight keep their share, the rest is an unbooked loss)
and lowers the buyer's credit score (risk's post-transition hook).

While a dispute is open the provider holds its money, so new refunds must fit beside it
(statemachine/money.py): a refund and a chargeback never pay the same money back twice.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from integrations.db.dispute_store import DisputeStore
from integrations.db.money_store import MoneyStore
from integrations.service import money, orders
from integrations.service.context import Context, Tx
from integrations.service.hooks import after_transition
from statemachine.dispute import DISPUTE_LIFECYCLE, OPEN_DISPUTE_STATES, Dispute
from statemachine.lifecycle import Fired
from statemachine.money import chargeback_booking
from statemachine.order import ORDER_LIFECYCLE, Order
from statemachine.policies import DeadlineKind
from statemachine.ports import MoneyEvent

ALERT_BEFORE = timedelta(hours=48)  # the SLA alert fires this long before evidence is due


def open_dispute(ctx: Context, tx: Tx, order: Order, event: MoneyEvent) -> Dispute:
    """Record a dispute the provider reported (once per provider dispute id)."""
    store, now = DisputeStore(tx.store.sql), ctx.clock.now()
    prior = store.by_ref(event.provider, event.dispute_ref or "")
    if prior is not None:
        return prior
    dispute = store.add({"order_id": order.id, "provider": event.provider,
                         "provider_ref": event.dispute_ref, "payment_ref": event.payment_ref,
                         "amount": event.amount, "currency": event.currency,
                         "reason": event.reason, "evidence_due_by": event.due_by, "at": now})
    opened = Fired("dispute", dispute.public_id, "open", None, "opened", "opened", now,
                   f"provider:{event.provider}", {"amount": event.amount, "reason": event.reason,
                                                  "provider_ref": event.dispute_ref})
    tx.store.record(opened, dispute.id, order.id, event_data(dispute, order))
    if dispute.evidence_due_by is not None:
        tx.store.set_deadline(DeadlineKind.DISPUTE_EVIDENCE.value, "dispute", dispute.id,
                              order.id, max(now, dispute.evidence_due_by - ALERT_BEFORE))
    return dispute


def fire_dispute(ctx: Context, dispute_no: int, trigger: str, actor: str,
                 params: dict[str, Any]) -> Dispute:
    """Move a dispute in its own transaction (the order row locked first)."""
    with ctx.tx() as tx:
        order_id = DisputeStore(tx.store.sql).get(dispute_no).order_id
        order = tx.store.get_order(order_id, lock=True)
        dispute = DisputeStore(tx.store.sql).get(dispute_no)
        fire(ctx, tx, order, dispute, trigger, actor, params)
        return dispute


def fire(ctx: Context, tx: Tx, order: Order, dispute: Dispute, trigger: str, actor: str,
         params: dict[str, Any]) -> Fired:
    """The one path a dispute moves; a loss books the chargeback on the order."""
    now = ctx.clock.now()
    if trigger in ("lose", "accept"):
        in_flight = MoneyStore(tx.store.sql).reserved(order.id).refunds
        booked, unbooked = chargeback_booking(order, dispute.amount, in_flight)
        params = {**params, "booked": booked, "unbooked": unbooked}
    fired = DISPUTE_LIFECYCLE.fire(dispute, trigger, at=now, actor=actor, **params)
    DisputeStore(tx.store.sql).save(dispute, now)
    if dispute.state.value not in OPEN_DISPUTE_STATES:
        tx.store.clear_deadlines("dispute", dispute.id)
    if dispute.booked and trigger in ("lose", "accept"):
        _book_chargeback(ctx, tx, order, dispute, actor)
    tx.store.record(fired, dispute.id, order.id, event_data(dispute, order))
    after_transition(ctx, tx, dispute, fired)
    return fired


def _book_chargeback(ctx: Context, tx: Tx, order: Order, dispute: Dispute,
                     actor: str) -> None:
    reason = f"chargeback {dispute.public_id} ({dispute.reason or 'no reason'}) lost"
    if ORDER_LIFECYCLE.can(order.state, "refund"):
        orders.fire(ctx, tx, order, "refund", actor, {"amount": dispute.booked,
                                                      "reason": reason})
    else:  # an order that cannot take a refund any more: finance sees it on the dispute
        dispute.unbooked, dispute.booked = dispute.unbooked + dispute.booked, 0
        DisputeStore(tx.store.sql).save(dispute, ctx.clock.now())
    money.ledger(ctx, tx, order, "chargeback", dispute.amount, dispute.provider_ref,
                 f"dispute:{dispute.provider}:{dispute.provider_ref}", reason=reason)


def evidence_due_alert(ctx: Context, tx: Tx, rows: list[Any], now: Any) -> dict[str, int]:
    """Sweep handler: a dispute whose evidence is due soon and not yet submitted → alert."""
    counts = {"dispute_evidence": 0, "stale": 0}
    store = DisputeStore(tx.store.sql)
    for row in rows:
        dispute = store.get(row.entity_id)
        if dispute.state.value not in ("opened", "evidence_due"):
            counts["stale"] += 1
            continue
        tx.store.record_signal("evidence_due_soon", "dispute", dispute.id, dispute.order_id,
                               now, {"dispute_id": dispute.public_id, "state":
                                     dispute.state.value, "amount": dispute.amount,
                                     "due_by": _iso(dispute.evidence_due_by)})
        counts["dispute_evidence"] += 1
    return counts


def event_data(dispute: Dispute, order: Order) -> dict[str, Any]:
    return {"dispute_id": dispute.public_id, "state": dispute.state.value,
            "amount": dispute.amount, "currency": dispute.currency,
            "buyer_id": order.buyer_id, "provider": dispute.provider,
            "due_by": _iso(dispute.evidence_due_by), "booked": dispute.booked,
            "unbooked": dispute.unbooked}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
