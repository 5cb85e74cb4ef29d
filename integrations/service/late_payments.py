"""Money that arrives for an order that can no longer take it (expired, cancelled, rejected).

It is never dropped. Under the shop's `late_payments = "revive"` policy an *expired* order is
revived when the money covers it and the stock it held is still there: it takes that stock again
and is paid (a savepoint: if the stock is gone, nothing of the attempt stays). Otherwise — the
default policy, a cancelled or rejected order, a wrong amount, stock gone — the money is recorded
and refunded automatically through the provider, once per payment (the refund's key is derived
from the payment). Both leave history and an event for staff.
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.db.money_store import MoneyStore
from integrations.db.writer import StockTaken
from integrations.service import orders
from integrations.service.context import Context, Tx
from integrations.service.money_requests import request
from statemachine.errors import GuardRejected
from statemachine.money import OperationKind
from statemachine.order import ORDER_LIFECYCLE
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


def take_late_money(ctx: Context, tx: Tx, order: Order, amount: int, payment_ref: str,
                    provider: str, wrong: str | None = None) -> LateMoney:
    """Revive the order (by policy, if it can) or record the automatic refund; `wrong` says
    why money for an order still waiting for its payment is not that payment (refunded)."""
    actor = f"provider:{provider}"
    key = f"late-refund:{provider}:{payment_ref}"  # one refund per late payment
    if MoneyStore(tx.store.sql).by_key(key) is not None:  # the same money reported again
        return LateMoney(False, None, f"late payment {payment_ref} already recorded "
                                      f"(refund {key})", new=False)
    if wrong is not None:
        why_not = wrong
    elif ctx.settings.late_payments == "revive" and ORDER_LIFECYCLE.can(order.state, "revive"):
        why_not = _revive(ctx, tx, order, amount, payment_ref, actor)
        if why_not is None:
            return LateMoney(True, None, "money arrived after the hold lapsed: order revived")
        order = tx.store.get_order(order.id, lock=True)  # the attempt's changes were undone
    elif order.paid and order.payment_ref != payment_ref:  # a second payment
        why_not = f"the order is paid already by {order.payment_ref}"
    else:
        why_not = f"the order was {order.state}"
    request(ctx, tx, order, OperationKind.REFUND, amount, key, actor, payment_ref=payment_ref,
            purpose={"late": payment_ref}, reason=f"{why_not}: refunded automatically")
    tx.writer.signal("late_payment", "order", order.id, order.id, ctx.clock.now(), {
        "amount": amount, "payment_ref": payment_ref, "state": order.state.value,
        "refund": key, "why": why_not})
    return LateMoney(False, key, f"money arrived for a {order.state} order ({why_not}): "
                                 f"recorded, refund {key} requested")


def _revive(ctx: Context, tx: Tx, order: Order, amount: int, payment_ref: str,
            actor: str) -> str | None:
    """None if revived; else why not (and nothing of the attempt is left)."""
    try:
        with tx.connection.begin_nested():
            orders.fire(ctx, tx, order, "revive", actor,
                        {"amount": amount, "payment_ref": payment_ref})
    except StockTaken:
        return "its stock was taken meanwhile"
    except GuardRejected as refused:
        return refused.reason
    return None
