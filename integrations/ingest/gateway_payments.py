"""The generic gateway's payment events (`POST /v1/payments/events`, and the payments a shop's
own code reports with `pilot.orders.pay`: payment_reports.py): succeeded, pending, failed,
refunded, chargeback — each applied once, with its ledger row (payment_records), in one
transaction. Stripe's and Alipay's own notifications are money_events.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from integrations.db import records
from integrations.ingest.events import PaymentEvent
from integrations.ingest.once import Applied, Outcome, once, order_body
from integrations.risk import operations
from integrations.service import money, orders
from integrations.service.context import Context, Tx
from integrations.service.inputs import parse_id
from integrations.service.late_payments import is_late, not_its_payment, take_late_money
from statemachine import ids
from statemachine.errors import InvalidInput
from statemachine.order import AWAITING_DECISION, takes_payment, waits_for
from statemachine.order_aggregate import Order, OrderState

PAYMENT_RECORD_KIND = {"succeeded": "capture", "failed": "failed", "refunded": "refund",
                       "chargeback": "chargeback", "pending": "pending"}


def payment_event(ctx: Context, event: PaymentEvent) -> Outcome:
    """Apply a gateway event: capture pays, refund / chargeback refund, failure is recorded.
    Money the order cannot take, or that is not its total in its currency, is late
    (late_payments.py: revived or refunded by policy, a wrong amount or currency always
    refunded, as the providers' webhooks do; the body's `late_payment` says which;
    `late_refund` makes the refund after the commit); the same payment reported again for an
    order it paid changes nothing. `pilot.orders.pay` applies its reports here too
    (payment_reports.py)."""
    number = parse_id("order_id", event.order_id, "o")

    def apply(tx: Tx, _: Any, now: datetime) -> Applied:
        order = tx.store.get_order(number, lock=True)
        # money that arrived is booked whatever its currency; a refund, a chargeback or a
        # payment merely started in another currency is the sender's mistake: refused
        if event.currency not in (None, order.currency) and event.type != "succeeded":
            raise InvalidInput({"currency": f"order {order.public_id} is in {order.currency} "
                                            f"(got {event.currency})"})
        body: dict[str, Any] = {}
        if event.type == "succeeded" and order.paid and order.payment_ref == event.payment_ref:
            return Applied(number, False, {"order": order_body(tx, number)},
                           f"already paid by {event.payment_ref}")  # reported again
        wrong = _not_the_total(order, event)
        late_money = wrong is not None or is_late(order, event.payment_ref)
        if event.type == "succeeded" and late_money:
            late = take_late_money(ctx, tx, order, event.amount, event.payment_ref, "payments",
                                   wrong, currency=event.currency or order.currency, now=now)
            body = {"late_payment": {"revived": late.revived, "refund": late.refund_key}}
            if not late.new:  # this late money was already recorded
                return Applied(number, False, {"order": order_body(tx, number), **body}, late.note)
            kind, applied, note, case_id = late.ledger_kind, True, late.note, None
        else:
            kind = PAYMENT_RECORD_KIND[event.type]
            applied, note, case_id = _PAYMENT[event.type](ctx, tx, order, event, now)
        records.payment_add(tx.connection, {  # in the currency it came in (late money's may
            "order_id": number, "kind": kind, "amount": event.amount,  # not be the order's)
            "currency": event.currency or order.currency, "provider_ref": event.payment_ref,
            "case_id": case_id,
            "event_key": f"payments:{event.event_id}", "reason": event.reason,
            "at": event.occurred_at or now})
        return Applied(number, applied, {"order": order_body(tx, number), **body}, note)

    return once(ctx, "payments", f"payment.{event.type}", event, apply)


def late_refund(ctx: Context, outcome: Outcome) -> Outcome:
    """After the commit: make the refund of late money a payment event recorded (its key is
    the payment's; a repeat, or a refund made already, changes nothing) and answer how it
    ended in `late_payment.refund_status`. Whatever stops it there (a timeout, a collision
    settling it) leaves it `pending` for the money sweep: the event is booked, its answer
    stands — not a 503 'nothing was written' that has the gateway resend it."""
    late = outcome.body.get("late_payment") or {}
    if not late.get("refund"):
        return outcome
    money.execute_after_commit(ctx, [late["refund"]], ctx.clock.now())  # this request's time
    status = money.get(ctx, late["refund"]).status.value
    return replace(outcome, body={**outcome.body,
                                  "late_payment": {**late, "refund_status": status}})


def _captured(ctx: Context, tx: Tx, order: Order, event: PaymentEvent, now: datetime
              ) -> tuple:
    """The money arrived and the order can take it: it is paid (or, waiting for a decision,
    keeps it). (Money it cannot take is revived by policy or refunded before this:
    late_payments.py.)"""
    orders.fire(ctx, tx, order, "pay", "gateway",
                {"amount": event.amount, "payment_ref": event.payment_ref}, now=now)
    return True, None, None


def _not_the_total(order: Order, event: PaymentEvent) -> str | None:
    """Why money taken for an order waiting for its payment cannot be that payment (another
    currency or amount: late money, refunded, as the providers' webhooks book it); None when
    it can, or when the order takes no payment (then it is late for that). Money in another
    currency is never the order's, whatever its state: an expired order must not be revived
    with it (12,900 US cents would pay ¥129), the revive step compares amounts only."""
    currency = event.currency or order.currency
    if not takes_payment(order) and currency == order.currency:
        return None
    return not_its_payment(order, event.amount, currency)


def _pending(ctx: Context, tx: Tx, order: Order, event: PaymentEvent, now: datetime
             ) -> tuple:
    """A payment started that has not settled (bank transfer, card authorised)."""
    if order.state in (OrderState.PAYMENT_PENDING, *AWAITING_DECISION) \
            and order.payment_ref == event.payment_ref:
        return False, "the order already waits for this payment", None
    if order.state in AWAITING_DECISION:  # approval then waits for it (payment_pending)
        if not takes_payment(order) or order.payment_ref is not None:  # paid, or another
            return False, f"payment started while {order.state}, which has money or a " \
                          f"payment on its way ({order.payment_ref}): recorded only", None
        orders.fire(ctx, tx, order, "start_payment", "gateway", {
            "amount": event.amount, "payment_ref": event.payment_ref}, now=now)
        return True, f"payment started while {order.state}: the order takes the money when " \
                     "it settles, and waits for it once approved", None
    orders.fire(ctx, tx, order, "start_payment", "gateway", {
        "amount": event.amount, "payment_ref": event.payment_ref}, now=now)
    return True, "the order waits in payment_pending until the payment settles", None


def _failed(ctx: Context, tx: Tx, order: Order, event: PaymentEvent, now: datetime
            ) -> tuple:
    if waits_for(order, event.payment_ref):
        before = order.state
        orders.fire(ctx, tx, order, "fail_payment", "gateway",
                    {"payment_ref": event.payment_ref, "reason": event.reason}, now=now)
        if before is OrderState.PAYMENT_PENDING:
            return True, "the pending payment failed; the buyer may pay again", None
        return True, f"the payment started while {before} failed", None  # approval won't wait
    return False, f"payment failed; order stays {order.state} until paid or expired", None


def _refunded(ctx: Context, tx: Tx, order: Order, event: PaymentEvent, now: datetime
              ) -> tuple:
    if event.case_id is None:
        orders.fire(ctx, tx, order, "refund", "gateway",
                    {"amount": event.amount, "reason": event.reason or "refunded at the gateway"},
                    now=now)
        return True, None, None
    case = tx.store.get_case(parse_id("case_id", event.case_id, "c"))
    if case.order_id != order.id:
        raise InvalidInput({"case_id": f"{case.public_id} belongs to {ids.ORDER(case.order_id)}, "
                                       f"not {order.public_id}"})
    return False, f"confirms the refund of {case.public_id}; recorded only", case.id


def _chargeback(ctx: Context, tx: Tx, order: Order, event: PaymentEvent, now: datetime
                ) -> tuple:
    orders.fire(ctx, tx, order, "refund", "gateway",
                {"amount": event.amount, "reason": f"chargeback: {event.reason or 'no reason'}"},
                now=now)
    tx.writer.signal("chargeback", "order", order.id, order.id, now,
                     {"amount": event.amount, "payment_ref": event.payment_ref})
    operations.charge_back(ctx, tx.connection, order, by="gateway", at=now,
                           note=f"chargeback {event.payment_ref}: {event.reason or 'no reason'}")
    return True, "chargeback booked as a refund; buyer credit lowered; ops alerted", None


_PAYMENT = {"succeeded": _captured, "failed": _failed, "refunded": _refunded,
            "chargeback": _chargeback, "pending": _pending}
