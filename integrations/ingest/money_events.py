"""Provider notifications (Stripe webhooks, Alipay notify), verified upstream, applied once.

Each is logged by the provider's event id (`stripe:evt_…`, `alipay:<notify_id>`): a replay
is answered from the log and changes nothing. What each kind does:

- authorised: the buyer's card is authorised. By the shop's `capture_at` policy: the order
  waits in `payment_pending` and a capture is recorded (made after commit), or — capture at
  shipping — the order is paid on the authorisation (`pay`, nothing counted as paid) and the
  capture is made when it ships. On an order that can no longer be paid, or for an amount that
  is not the total, the authorisation is released (void) instead;
- processing: a slow payment (bank transfer) started → `payment_pending` until it settles;
- captured: the order is paid (or, if a capture of ours was in flight, it is settled; an
  authorisation kept for shipping is captured); money for an order that can no longer be paid,
  or that is not its total in its currency, is never dropped (service/late_payments.py:
  revived by policy, else refunded automatically; a wrong amount is never revived);
- failed: recorded; a pending payment returns the order to `awaiting_payment` with a fresh
  hold (the buyer may pay another way), otherwise the order keeps waiting;
- refunded (the provider's refunded total so far): what exceeds our settled refunds settles
  our refunds in flight (accepted, or whose call may be under way: the notice can come
  before the provider's answer), and what is left — a refund made at the provider's
  dashboard — is booked on the order; money the order owes back but cannot count (late
  money, or a cancelled order's whose step counted it already) is booked toward that debt,
  and our own refund of it asks only for what is left; one that gives back all an unshipped
  order kept cancels the order (service/outside_refunds.py);
- closed (an unpaid trade closed): settles a void of ours, else recorded;
- dispute_opened / dispute_updated / dispute_closed (and Stripe's dispute_funds_withdrawn /
  dispute_funds_reinstated, which carry the same Dispute): the dispute is now what the provider
  reports — opened once, then each status fires the steps of the provider's table
  (dispute_steps.py: an inquiry turned chargeback is escalated, a close won, lost or closed)
  through the dispute machine (service/disputes.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import ConfigDict

from integrations.db.dispute_store import DisputeStore
from integrations.db.money_store import MoneyStore
from integrations.ingest import dispute_steps
from integrations.ingest.events import Inbound
from integrations.ingest.once import Applied, Outcome, once
from integrations.service import disputes, money, orders, outside_refunds
from integrations.service.context import Context, Tx
from integrations.service.late_payments import (
    already_paid_by,
    not_its_payment,
    take_late_money,
)
from integrations.service.views import OrderView
from statemachine import ids
from statemachine.errors import InvalidInput, NotFound
from statemachine.money import OperationKind, OperationStatus
from statemachine.order import AWAITING_DECISION, takes_payment, waits_for
from statemachine.order_aggregate import Order, OrderState
from statemachine.ports import MoneyEvent, PaymentResult


class ProviderNotice(Inbound):
    """How a verified provider event is logged (its body is the translated event)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    event: MoneyEvent


def apply_money_event(ctx: Context, event: MoneyEvent) -> tuple[Outcome, list[str]]:
    """Apply once; returns the outcome and the operations to execute after the commit."""
    notice = ProviderNotice(event_id=event.event_id, occurred_at=event.occurred_at,
                            event=event)
    follow: list[str] = []

    def apply(tx: Tx, _: Any, now: datetime) -> Applied:
        follow.clear()  # a retried attempt starts over
        order = _order_of(tx, event)
        if order is None:
            return Applied(None, False, {}, f"no order for {event.payment_ref}: ignored")
        applied, note = _APPLY[event.kind](ctx, tx, order, event, follow, now)
        view = OrderView.of(tx.store.get_order(order.id)).model_dump(mode="json")
        return Applied(order.id, applied, {"order": view}, note)

    return once(ctx, event.provider, f"payment.{event.kind}", notice, apply), follow


def _authorised(ctx: Context, tx: Tx, order: Order, ev: MoneyEvent, follow: list[str],
                now: datetime) -> tuple:
    actor, money_in = f"provider:{ev.provider}", {"amount": ev.amount,
                                                   "payment_ref": ev.payment_ref}
    waiting = takes_payment(order) and (
        order.state is not OrderState.PAYMENT_PENDING or order.payment_ref == ev.payment_ref)
    wrong = not_its_payment(order, ev.amount, ev.currency)
    if waiting and wrong is None:
        # an order waiting for a risk decision takes the money now (the decision settles it)
        if ctx.settings.capture_at == "shipping" and order.state not in AWAITING_DECISION:
            orders.fire(ctx, tx, order, "pay", actor, {**money_in, "authorised_only": True},
                        now=now)
            return True, "authorised; kept for capture at shipping"
        if order.state is OrderState.AWAITING_PAYMENT:
            orders.fire(ctx, tx, order, "start_payment", actor, {**money_in, "method": "card"},
                        now=now)
        key = money.key_for(tx, f"capture:{order.public_id}", order.id)
        follow.append(money.request(ctx, tx, order, OperationKind.CAPTURE, ev.amount, key,
                                    actor, payment_ref=ev.payment_ref, at=now).key)
        return True, "authorised; capture requested"
    if order.payment_ref == ev.payment_ref and order.state is not OrderState.PAYMENT_PENDING:
        return False, "already recorded"
    why = f"authorised: {wrong}" if waiting else f"authorised while {order.state}"
    key = money.key_for(tx, f"void:{order.public_id}", order.id)
    follow.append(money.request(ctx, tx, order, OperationKind.VOID, ev.amount, key, actor,
                                payment_ref=ev.payment_ref, reason=why,
                                currency=ev.currency, at=now).key)
    return True, f"{why}: the authorisation is released"


def _processing(ctx: Context, tx: Tx, order: Order, ev: MoneyEvent, follow: list[str],
                now: datetime) -> tuple:
    deciding = order.state in AWAITING_DECISION and takes_payment(order) \
        and order.payment_ref in (None, ev.payment_ref)  # approval then waits for it
    if deciding and order.payment_ref == ev.payment_ref:
        return False, "the order already waits for this payment"
    if not (order.state is OrderState.AWAITING_PAYMENT or deciding) \
            or not_its_payment(order, ev.amount, ev.currency) is not None:
        return False, f"payment processing while {order.state}: recorded only"
    orders.fire(ctx, tx, order, "start_payment", f"provider:{ev.provider}", {
        "amount": ev.amount, "payment_ref": ev.payment_ref, "method": ev.reason or "processing"},
        now=now)
    return True, "payment processing: the order waits for it to settle"


def _captured(ctx: Context, tx: Tx, order: Order, ev: MoneyEvent, follow: list[str],
              now: datetime) -> tuple:
    ours = _pending(tx, order, OperationKind.CAPTURE, ev.payment_ref)
    if ours is not None:
        money.settle_in(ctx, tx, order, ours, _result(ev, "capture", ev.payment_ref), now)
        return True, f"settles capture {ours.key}"
    actor = f"provider:{ev.provider}"
    wrong = not_its_payment(order, ev.amount, ev.currency)
    if takes_payment(order) and wrong is None:
        orders.fire(ctx, tx, order, "pay", actor,
                    {"amount": ev.amount, "payment_ref": ev.payment_ref}, now=now)
        _ledger(tx, order, ev, "capture")
        return True, None
    held = order.authorisation
    if held and held["payment_ref"] == ev.payment_ref:  # captured at the provider's dashboard
        orders.fire(ctx, tx, order, "capture", actor, {"amount": ev.amount}, now=now)
        _ledger(tx, order, ev, "capture")
        return True, "the authorisation kept for shipping was captured"
    if already_paid_by(order, ev.payment_ref):
        return False, "already captured"
    late = take_late_money(ctx, tx, order, ev.amount, ev.payment_ref, ev.provider,
                           wrong if takes_payment(order) else None, currency=ev.currency,
                           now=now)
    if not late.new:
        return False, late.note
    _ledger(tx, order, ev, late.ledger_kind)
    follow.extend([late.refund_key] if late.refund_key else [])
    return True, late.note


def _failed(ctx: Context, tx: Tx, order: Order, ev: MoneyEvent, follow: list[str],
            now: datetime) -> tuple:
    _ledger(tx, order, ev, "failed", reason=ev.outcome)
    if waits_for(order, ev.payment_ref):
        before = order.state
        orders.fire(ctx, tx, order, "fail_payment", f"provider:{ev.provider}",
                    {"payment_ref": ev.payment_ref, "reason": ev.outcome}, now=now)
        if before is OrderState.PAYMENT_PENDING:
            return True, "the pending payment failed; the buyer may pay again while the hold lasts"
        return True, f"the payment started while {before} failed"  # approval won't wait
    return False, f"payment failed; order stays {order.state} until paid or expired"


def _refunded(ctx: Context, tx: Tx, order: Order, ev: MoneyEvent, follow: list[str],
              now: datetime) -> tuple:
    """`ev.amount` is the provider's refunded total for the payment."""
    settled = MoneyStore(tx.store.sql).settled_refunds(order.id, ev.payment_ref)
    news, notes = int(ev.amount) - settled, []
    # a notice naming a refund not ours (made in the portal) brings at least that refund: one
    # of ours settles from it only with money to spare — a portal refund of exactly the amount
    # of ours waiting for its retry is the portal's, not ours
    spare = 1 if _names_outside_refund(tx, order, ev) else 0
    for ours in sorted(_in_flight(tx, order, ev.payment_ref), key=lambda op: op.key
                       != ev.refund_ref):  # the refund the notice names first
        if news - spare < ours.amount or _asked_after(ours, ev):
            continue
        money.settle_in(ctx, tx, order, ours,
                        _result(ev, "refund", ours.provider_ref, ours.amount), now)
        news -= ours.amount
        notes.append(f"settles {ours.key}")
    order = tx.store.get_order(order.id, lock=True)  # settling ours moved its version
    debt = outside_refunds.debt_of(tx, order, ev, news) if news > 0 else None
    if debt is not None:
        note, rest = outside_refunds.book(ctx, tx, order, ev, news, debt, now)
        follow.extend(rest)
        notes.append(note)
    elif news > 0 and outside_refunds.cancels_the_order(tx, order, news):
        note, rest = outside_refunds.cancel_and_book(ctx, tx, order, ev, news, now)
        follow.extend(rest)
        notes.append(note)
    elif news > 0:
        orders.fire(ctx, tx, order, "refund", f"provider:{ev.provider}",
                    {"amount": news, "reason": f"refunded at {ev.provider} directly"}, now=now)
        _ledger(tx, order, ev, "refund", news)
        order = tx.store.get_order(order.id, lock=True)
        notes.append(f"{news} refunded at the provider booked"
                     + outside_refunds.tell_ops_if_all_given_back(tx, order, ev, now))
    return bool(notes), "; ".join(notes) or "refunds already recorded"


def _closed(ctx: Context, tx: Tx, order: Order, ev: MoneyEvent, follow: list[str],
            now: datetime) -> tuple:
    ours = _pending(tx, order, OperationKind.VOID, ev.payment_ref)
    if ours is not None:
        money.settle_in(ctx, tx, order, ours, _result(ev, "void", ev.payment_ref), now)
        return True, f"settles {ours.key}"
    return False, "unpaid trade closed at the provider"


def _dispute(ctx: Context, tx: Tx, order: Order, ev: MoneyEvent, follow: list[str],
             now: datetime) -> tuple:
    """The dispute is now what the provider reports (its status → steps: dispute_steps.py):
    opened once per provider dispute id, then moved — escalated, won, lost, closed."""
    known = DisputeStore(tx.store.sql).by_ref(ev.provider, ev.dispute_ref or "")
    dispute = known or disputes.open_dispute(ctx, tx, order, ev, now)
    steps = dispute_steps.steps_to(ev.provider, ev.dispute_kind, ev.outcome, dispute)
    for step in steps:
        disputes.fire(ctx, tx, dispute, step, f"provider:{ev.provider}",
                      {"reason": ev.reason, "due_by": ev.due_by, "amount": ev.amount}
                      if step in dispute_steps.GREW else
                      {"reason": f"closed by the bank: {ev.outcome}"}, now=now)
    return known is None or bool(steps), dispute_steps.note(
        dispute, steps, known is None, ev.dispute_kind, f"{ev.provider} says {ev.outcome}")


_APPLY = {"authorised": _authorised, "processing": _processing, "captured": _captured,
          "failed": _failed, "refunded": _refunded, "closed": _closed,
          **dict.fromkeys(("dispute_opened", "dispute_updated", "dispute_closed",
                           "dispute_funds_withdrawn", "dispute_funds_reinstated"), _dispute)}


def _order_of(tx: Tx, event: MoneyEvent) -> Order | None:
    """The order the event is about: its id (Stripe metadata, Alipay out_trade_no), else the
    payment reference we recorded."""
    try:  # the codec reads ASCII digits only: `\d` took `o-١` for o-1
        number: int | None = ids.ORDER.parse(event.order_id)
    except InvalidInput:
        number = None
    if number is None:
        number = MoneyStore(tx.store.sql).order_of_payment(event.payment_ref)
    try:
        return tx.store.get_order(number, lock=True) if number is not None else None
    except NotFound:
        return None


def _pending(tx: Tx, order: Order, kind: OperationKind, payment_ref: str) -> Any:
    return next((op for op in MoneyStore(tx.store.sql).of_order(order.id)
                 if op.kind is kind and op.status is OperationStatus.PENDING
                 and op.payment_ref == payment_ref), None)


def _names_outside_refund(tx: Tx, order: Order, ev: MoneyEvent) -> bool:
    """The notice names its refund request (Alipay's out_biz_no) and it is none of ours: a
    refund staff made at the provider."""
    return ev.refund_ref is not None and not any(
        op.key == ev.refund_ref for op in MoneyStore(tx.store.sql).of_order(order.id)
        if op.kind is OperationKind.REFUND)


# how far Alipay's clock (gmt_refund, to the second) and ours may drift apart
CLOCK_SLACK = timedelta(minutes=1)


def _asked_after(ours: Any, ev: MoneyEvent) -> bool:
    """A notice about another refund (made in the portal) reports the refunded total as of
    that refund (`gmt_refund`): a refund of ours asked for after it cannot be in that total.
    One asked before may be in it or not: the notice does not say (only Alipay's refund
    query does), so the money-to-spare rule credits ours first (integrations/payments/README.md)."""
    named_ours = ev.refund_ref is not None and ev.refund_ref == ours.key
    return not named_ours and ours.created_at > ev.occurred_at + CLOCK_SLACK


def _in_flight(tx: Tx, order: Order, payment_ref: str) -> list[Any]:
    """Our refunds of a payment not settled yet: those the provider accepted (it named them)
    first, then those whose call may be under way, each oldest first. The provider's notice
    can beat its answer to our call (or our note of it): booked as a refund made at its
    dashboard, the refund was then booked a second time when our call settled (or, answered
    `pending`, our operation waited for a confirmation that had come already)."""
    ours = [op for op in MoneyStore(tx.store.sql).of_order(order.id)
            if op.kind is OperationKind.REFUND and op.status is OperationStatus.PENDING
            and op.payment_ref == payment_ref]
    return sorted(ours, key=lambda op: (op.provider_ref is None, op.id))


def _result(ev: MoneyEvent, kind: str, ref: str | None,
            amount: int | None = None) -> PaymentResult:
    return PaymentResult(kind, ref or ev.payment_ref, ev.payment_ref,
                         ev.amount if amount is None else amount, ev.currency, ev.event_id)


def _ledger(tx: Tx, order: Order, ev: MoneyEvent, kind: str, amount: int | None = None,
            reason: str | None = None) -> None:
    """What the provider reported, in the ledger at the provider's time, keyed by its event,
    in the currency it reported (late money's may not be the order's)."""
    money.ledger(tx, order, kind, ev.amount if amount is None else amount, ev.payment_ref,
                 f"{ev.provider}:{ev.event_id}", ev.occurred_at, reason=reason,
                 currency=ev.currency)
