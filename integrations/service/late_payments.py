"""Money that arrives for an order that can no longer take it (expired, cancelled, rejected).

It is never dropped. Under the shop's `late_payments = "revive"` policy an *expired* order is
revived when the money covers it and the stock it held is still there: it takes that stock again
and is paid (a savepoint: if the stock is gone, nothing of the attempt stays). Otherwise — the
default policy, a cancelled or rejected order, a wrong amount, stock gone — the money is recorded
and refunded automatically through the provider, once per payment (the refund's key is derived
from the payment). Both leave history and an event for staff.

Money a provider holds that orderpilot cannot send back (Shopify: the merchant refunds in
Shopify's admin) is recorded the same way, its refund owed (a pending operation never called,
listed by refunds_owed.py) until the provider's webhook books it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from integrations.db.money_store import MoneyStore
from integrations.db.writer import StockTaken
from integrations.service import orders
from integrations.service.context import Context, Tx
from integrations.service.money_requests import request
from statemachine.errors import GuardRejected
from statemachine.money import (
    REFUNDED_BY_MERCHANT,
    OperationKind,
    OperationStatus,
    PaymentOperation,
    refund_in_admin,
)
from statemachine.order import ORDER_LIFECYCLE, takes_payment
from statemachine.order_aggregate import Order


@dataclass(frozen=True, slots=True)
class LateMoney:
    revived: bool
    refund_key: str | None  # the refund to make after commit (None when revived)
    note: str
    new: bool = True  # False: this payment's late money was already taken (a repeat)

    @property
    def ledger_kind(self) -> str:
        """How the payment ledger books it: the revived order took the money as its capture;
        otherwise it is late money, owed back to the buyer."""
        return "capture" if self.revived else "late_capture"


def already_paid_by(order: Order, payment_ref: str) -> bool:
    """The order took this very payment (paid, or kept its authorisation for shipping): a
    repeat of it is not late money. An order that expired or was cancelled while the payment
    was pending still names it, with nothing paid: its money arriving is late."""
    held = order.authorisation
    return order.payment_ref == payment_ref and bool(
        order.paid or (held and held["payment_ref"] == payment_ref))


def is_late(order: Order, payment_ref: str) -> bool:
    """Money the order cannot take: it was expired, cancelled or rejected meanwhile (even while
    this payment was pending), or it is paid already by another payment (a second payment)."""
    return not takes_payment(order) and not already_paid_by(order, payment_ref)


def not_its_payment(order: Order, amount: int, currency: str) -> str | None:
    """Why money taken for the order cannot be its payment (another currency or amount: the
    `pay` guard would refuse it, and a sender retries a refused notice until it gives up, the
    money kept unrecorded); None when it can. Such money is late money, refunded (never
    revived) — for every sender: Stripe, Alipay, the generic payments webhook, the API."""
    if currency != order.currency:
        return f"paid {amount} {currency}, the order is in {order.currency}"
    if amount != order.total:
        return f"paid {amount}, the order total is {order.total}"
    return None


def take_late_money(ctx: Context, tx: Tx, order: Order, amount: int, payment_ref: str,
                    provider: str, wrong: str | None = None, *, currency: str,
                    given_back: int | None = None, now: datetime) -> LateMoney:
    """Revive the order (by policy, if it can) or record the automatic refund; `wrong` says
    why money for an order still waiting for its payment is not that payment (refunded).
    `amount` pays the order when revived; `given_back` is what goes back otherwise (default
    `amount`; Shopify's charge includes shipping and tax). `currency` is the one the money
    came in: money in another than the order's is never revived (the revive step compares
    amounts only: 12,900 US cents would pay ¥129), and it is recorded and refunded in it — the
    refund operation, the event, and the ledger row the caller books. A provider in
    REFUNDED_BY_MERCHANT is not called: its refund is owed, made in its admin. All at `now`,
    the caller's time."""
    actor = f"provider:{provider}"
    key = f"late-refund:{provider}:{payment_ref}"  # one refund per late payment
    if MoneyStore(tx.store.sql).by_key(key) is not None:  # the same money reported again
        return LateMoney(False, None, f"late payment {payment_ref} already recorded "
                                      f"(refund {key})", new=False)
    if wrong is None and currency != order.currency:
        wrong = not_its_payment(order, amount, currency)
    if wrong is not None:
        why_not = wrong
    elif ctx.settings.late_payments == "revive" and ORDER_LIFECYCLE.can(order.state, "revive"):
        why_not = _revive(ctx, tx, order, amount, payment_ref, actor, now)
        if why_not is None:
            return LateMoney(True, None, "money arrived after the hold lapsed: order revived")
        order = tx.store.get_order(order.id, lock=True)  # the attempt's changes were undone
    elif order.paid and order.payment_ref != payment_ref:  # a second payment
        why_not = f"the order is paid already by {order.payment_ref}"
    else:
        why_not = f"the order was {order.state}"
    back = amount if given_back is None else given_back
    by_merchant = provider in REFUNDED_BY_MERCHANT
    how = refund_in_admin(provider) if by_merchant else "refunded automatically"
    request(ctx, tx, order, OperationKind.REFUND, back, key, actor, payment_ref=payment_ref,
            purpose={"late": payment_ref}, reason=f"{why_not}: {how}",
            provider=provider if by_merchant else None, currency=currency, at=now)
    tx.writer.signal("late_payment", "order", order.id, order.id, now, {
        "amount": back, "currency": currency, "payment_ref": payment_ref,
        "state": order.state.value, "refund": key, "why": why_not})
    if by_merchant:  # nothing for us to call: owed until the provider books the refund
        return LateMoney(False, None, f"late money: it arrived for a {order.state} order "
                                      f"({why_not}); recorded, owed back to the buyer: {how}")
    return LateMoney(False, key, f"money arrived for a {order.state} order ({why_not}): "
                                 f"recorded, refund {key} requested")


def owed_in_admin(tx: Tx, order: Order) -> PaymentOperation | None:
    """The order's late money whose refund the merchant makes in the provider's admin, while
    it is owed (its refund operation pending)."""
    return next((op for op in MoneyStore(tx.store.sql).of_order(order.id)
                 if op.kind is OperationKind.REFUND and op.status is OperationStatus.PENDING
                 and op.provider in REFUNDED_BY_MERCHANT and op.purpose.get("late")), None)


def given_back_in_admin(tx: Tx, order: Order, operation: PaymentOperation, ref: str,
                        now: datetime) -> None:
    """The provider's webhooks booked all of the late money back (each refund in the ledger
    as it came, in parts maybe): the owed refund is settled, staff told (at `now`)."""
    if MoneyStore(tx.store.sql).settle(operation.key, OperationStatus.SUCCEEDED, now, ref):
        late_money_refunded(tx, order, operation, now)


def late_money_refunded(tx: Tx, order: Order, operation: PaymentOperation, now: datetime
                        ) -> None:
    tx.writer.signal("late_payment_refunded", "order", order.id, order.id, now,
                     {"amount": operation.amount, "currency": operation.currency,
                      "payment_ref": operation.payment_ref, "operation": operation.key})


def _revive(ctx: Context, tx: Tx, order: Order, amount: int, payment_ref: str,
            actor: str, now: datetime) -> str | None:
    """None if revived; else why not (and nothing of the attempt is left)."""
    try:
        with tx.connection.begin_nested():
            orders.fire(ctx, tx, order, "revive", actor,
                        {"amount": amount, "payment_ref": payment_ref}, now=now)
    except StockTaken:
        return "its stock was taken meanwhile"
    except GuardRejected as refused:
        return refused.reason
    return None
