"""Taking the buyer's money through the provider: open a checkout, capture an authorisation.

Both go through the money operations (integrations/service/money.py): the intent is recorded
first, the provider is called with a key derived from the order (`checkout:o-42`,
`capture:o-42`), the answer is settled once. Case refunds live in
integrations/service/money_refunds.py. (A use case: it lived in integrations/payments/service.py
before; the adapters there only speak to the providers.)
"""

from __future__ import annotations

from datetime import datetime

from integrations.db.money_store import MoneyStore
from integrations.service import money
from integrations.service.context import Context
from statemachine import ids
from statemachine.errors import GuardRejected, SecretsUnavailable
from statemachine.money import OperationKind, OperationStatus, PaymentOperation
from statemachine.order import takes_payment
from statemachine.ports import Checkout, TransientPaymentError


def open_checkout(ctx: Context, order_no: int, actor: str = "shop") -> Checkout:
    """The provider's payment for this order (opened once; a repeat returns the same one)."""
    # one time for the operation's record and its settlement, the provider's call between
    key, now = f"checkout:{ids.ORDER(order_no)}", ctx.clock.now()
    with ctx.tx() as tx:
        order = tx.store.get_order(order_no, lock=True)
        if not takes_payment(order):
            raise GuardRejected("order", order.public_id, order.state.value, "checkout",
                                "only an order awaiting payment (or, unpaid, a decision) can "
                                "be paid")
        money.request(ctx, tx, order, OperationKind.CHECKOUT, order.total, key, actor, at=now)
    checkout = ctx.gateway.checkout(order.public_id, order.total, order.currency,
                                    idempotency_key=key)
    with ctx.tx() as tx:
        MoneyStore(tx.store.sql).settle(key, OperationStatus.SUCCEEDED, now, checkout.payment_ref)
    return checkout


def capture(ctx: Context, order_no: int, payment_ref: str, amount: int,
            actor: str = "system:capture") -> PaymentOperation:
    """Capture an authorised payment of the order; the order is paid when it settles."""
    now = ctx.clock.now()  # of the request and of the provider's answer booked
    with ctx.tx() as tx:
        order = tx.store.get_order(order_no, lock=True)
        key = money.key_for(tx, f"capture:{order.public_id}", order.id)
        operation = money.request(ctx, tx, order, OperationKind.CAPTURE, amount, key, actor,
                                  payment_ref=payment_ref, at=now)
    return _made(ctx, operation.key, now)


def _made(ctx: Context, key: str, now: datetime) -> PaymentOperation:
    """Make the recorded capture after its commit and answer it as it ends, the provider's
    answer booked at `now` (the call's). A timeout or
    unreadable secrets are raised as before (pending: retry with the same key); anything
    else stopping it there — a collision settling the provider's answer, the store away — is
    answered with the capture pending, its error saying why, for the money sweep (never
    raised over the recorded capture the provider may have made)."""
    money.execute_after_commit(ctx, [key], now,
                               raising=(TransientPaymentError, SecretsUnavailable))
    return money.get(ctx, key)


def capture_order(ctx: Context, order_no: int, actor: str = "system:capture"
                  ) -> PaymentOperation:
    """Open the checkout (if not yet) and capture the order's total (the simulated buyer
    authorises on the spot; with a real provider the buyer must have authorised)."""
    with ctx.tx(readonly=True) as tx:
        prior = MoneyStore(tx.store.sql).latest(f"capture:{ids.ORDER(order_no)}", order_no)
    if prior is not None and prior.status is not OperationStatus.FAILED:
        # in flight: retry with its key (booked at this call's time); done: replay
        return _made(ctx, prior.key, ctx.clock.now())
    checkout = open_checkout(ctx, order_no, actor)
    return capture(ctx, order_no, checkout.payment_ref, checkout.amount, actor)
