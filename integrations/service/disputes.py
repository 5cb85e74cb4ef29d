"""Disputes (chargebacks) through the one pipeline: opened by the provider's webhook,
answered with evidence a person confirms, closed by the bank.

A lost or conceded dispute books the chargeback on the order — never past what was paid:
refunds in flight keep their share, the rest is an unbooked loss on the dispute for finance;
refunds of ours owed in a provider's admin (a case's, on an order Shopify took the money of:
never made) that the chargeback covers are settled by it (the case refunded, no longer listed
as owed: the bank paid the buyer back) —
and lowers the buyer's credit score (risk's post-transition hook). While a chargeback is open the
provider holds its money, and refunds none of the payment (not the undisputed part either):
no refund of ours is recorded until the dispute closes (statemachine/money.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from integrations.db.dispute_store import DisputeStore
from integrations.db.money_store import MoneyStore
from integrations.db.repository import Due
from integrations.db.writer import Change
from integrations.service import admin_refunds, money, pipeline
from integrations.service.context import Context, Tx
from integrations.service.input_checks import check_text
from integrations.service.kinds import ORDER
from integrations.service.pipeline import Facts, Kind, Move, Refused
from statemachine import limits
from statemachine.dispute import (
    DISPUTE_LIFECYCLE,
    UNANSWERED,
    Dispute,
    DisputeKind,
    DisputeState,
    due_in_utc,
)
from statemachine.errors import InvalidInput
from statemachine.money import PaymentOperation, chargeback_booking
from statemachine.order import ORDER_LIFECYCLE
from statemachine.order_aggregate import Order
from statemachine.ports import MoneyEvent

LOSSES = ("lose", "accept")


def open_dispute(ctx: Context, tx: Tx, order: Order, event: MoneyEvent,
                 now: datetime) -> Dispute:
    """Record a dispute the provider reported (once per provider dispute id)."""
    prior = DisputeStore(tx.store.sql).by_ref(event.provider, event.dispute_ref or "")
    if prior is not None:
        return prior
    dispute = Dispute(id=0, order_id=order.id, provider=event.provider,
                      provider_ref=event.dispute_ref or "", payment_ref=event.payment_ref,
                      state=DisputeState.OPENED, version=1, amount=event.amount,
                      currency=event.currency, created_at=now,
                      kind=DisputeKind(event.dispute_kind), reason=event.reason,
                      evidence_due_by=due_in_utc(event.due_by))
    created = pipeline.create(ctx, tx, DISPUTE, dispute, f"provider:{event.provider}", {
        "amount": event.amount, "kind": dispute.kind.value, "reason": event.reason,
        "provider_ref": event.dispute_ref}, now)
    pipeline.record(ctx, tx, [created])
    return dispute


def fire_dispute(ctx: Context, dispute_no: int, trigger: str, actor: str,
                 params: dict[str, Any], now: datetime | None = None) -> Dispute:
    """Move a dispute in its own transaction."""
    now = now or ctx.clock.now()
    with ctx.tx() as tx:
        dispute = DisputeStore(tx.store.sql).get(dispute_no)
        fire(ctx, tx, dispute, trigger, actor, params, now=now)
        return dispute


def correct_kind(ctx: Context, dispute_no: int, kind: str, actor: str,
                 reason: str) -> Dispute:
    """A person corrects the kind the store holds (inquiry | chargeback): a Stripe inquiry
    recorded before migration 0033 was backfilled as a chargeback, and nothing stored says
    which it was while it is open (migration 0037 corrects those Stripe closed). The state
    stays; what the dispute holds against refunds and books in the reconciliation follows the
    new kind. Bad input names the field and writes nothing."""
    kinds = [k.value for k in DisputeKind]
    if kind not in kinds:
        raise InvalidInput({"kind": f"expected one of {kinds} (got {kind!r})"})
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput({"reason": "say why the kind is corrected (what the provider "
                                      "shows, e.g. Stripe's status warning_needs_response)"})
    check_text("reason", reason, limits.REASON, what="a reason")  # the history keeps it
    return fire_dispute(ctx, dispute_no, "correct_kind", actor,
                        {"kind": kind, "reason": reason.strip()})


def fire(ctx: Context, tx: Tx, dispute: Dispute, trigger: str, actor: str,
         params: dict[str, Any], *, now: datetime) -> Any:
    """The one path every dispute transition takes; `now`: the calling service's clock read."""
    return pipeline.fire(ctx, tx, DISPUTE, dispute, trigger, actor, params, now)


def evidence_due_alert(ctx: Context, tx: Tx, rows: list[Due], now: datetime) -> dict[str, int]:
    """Sweep handler: evidence due soon and not yet submitted → an SLA alert (outbox)."""
    counts = {"dispute_evidence": 0, "stale": 0}
    store = DisputeStore(tx.store.sql)
    for row in rows:
        dispute = store.get(row.entity_id)
        if dispute.state not in UNANSWERED:
            counts["stale"] += 1
            continue
        tx.writer.signal("evidence_due_soon", "dispute", dispute.id, dispute.order_id, now,
                         dispute_event_data(tx, dispute))
        counts["dispute_evidence"] += 1
    return counts


# --- how the pipeline drives disputes --------------------------------------------------------

def dispute_event_data(tx: Tx | None, dispute: Dispute) -> dict[str, Any]:
    due = dispute.evidence_due_by
    return {"dispute_id": dispute.public_id, "state": dispute.state.value,
            "kind": dispute.kind.value, "amount": dispute.amount, "currency": dispute.currency,
            "provider": dispute.provider, "due_by": due.isoformat() if due else None,
            "booked": dispute.booked, "unbooked": dispute.unbooked}


def dispute_facts(ctx: Context, tx: Tx, moves: Sequence[Move]) -> Facts:
    """The order rows are locked first; a loss learns what the order can still book."""
    tx.store.lock_orders(sorted({m.aggregate.order_id for m in moves}))

    def facts(move: Move) -> dict[str, Any]:
        params = dict(move.params)
        if move.trigger in LOSSES:
            dispute = move.aggregate
            order = tx.store.get_order(dispute.order_id)
            in_flight = MoneyStore(tx.store.sql).reserved(order.id).refunds
            # refunds of ours owed in a provider's admin were never made: not in flight, the
            # chargeback pays them back (book_chargebacks settles them) — all but what an
            # admin refund already gave them (held for them): that the order counts too
            in_flight -= sum(lacking for _, lacking in _paid_back(tx, order, dispute))
            booked, unbooked = chargeback_booking(order, dispute.amount, in_flight)
            if not ORDER_LIFECYCLE.can(order.state, "refund"):
                booked, unbooked = 0, dispute.amount
            params.update(booked=booked, unbooked=unbooked)
        return params

    return facts


def book_chargebacks(ctx: Context, tx: Tx, changes: list[Change]) -> list[Refused]:
    """A dispute lost or conceded: the order books what it can, the ledger the whole loss."""
    for change in changes:
        fired = change.fired
        if fired.entity != "dispute" or fired.trigger not in LOSSES:
            continue
        dispute = change.aggregate
        order = tx.store.get_order(dispute.order_id)
        reason = (f"chargeback {dispute.public_id} ({dispute.reason or 'no reason'}) "
                  f"{fired.to_state}")
        rest = dispute.booked
        if rest:  # first the refunds of ours owed in the admin it paid back (a case's)
            rest -= admin_refunds.settle_paid_back(
                ctx, tx, order, _paid_back(tx, order, dispute),
                f"dispute:{dispute.provider}:{dispute.provider_ref}", fired.at)
            order = tx.store.get_order(dispute.order_id)
        if rest > 0:
            pipeline.fire(ctx, tx, ORDER, order, "refund", fired.actor,
                          {"amount": rest, "reason": reason}, fired.at)
        money.ledger(tx, order, "chargeback", dispute.amount, dispute.provider_ref,
                     f"dispute:{dispute.provider}:{dispute.provider_ref}", fired.at,
                     reason=reason)
    return []


def _paid_back(tx: Tx, order: Order, dispute: Dispute
               ) -> list[tuple[PaymentOperation, int]]:
    """The refunds of ours owed in a provider's admin (Shopify's: never made, the merchant
    makes them there) that a lost chargeback pays back, each with what it still lacked: the
    bank gave the buyer the money, so none is to be made any more. Those its amount covers,
    matched on what each lacks (admin_refunds.paid_back_by)."""
    if not ORDER_LIFECYCLE.can(order.state, "refund"):
        return []
    return admin_refunds.paid_back_by(tx, order, dispute.amount)


DISPUTE = Kind(DISPUTE_LIFECYCLE, order_of=lambda d: d.order_id,
               event_data=dispute_event_data, facts=dispute_facts,
               follow_up=book_chargebacks)
