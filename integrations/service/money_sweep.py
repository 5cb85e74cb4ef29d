"""Money operations left behind, finished in the background (the console's sweep loop, or
`orderpilot payments sweep` from cron):

- a provider call that failed transiently (timeout, 5xx) stays pending — and its amount stays
  reserved, so later refunds must fit beside it — until it is made again with its own key
  (the provider answers a repeated key with the first result: the money moves once);
- a payment opened at the provider for an order that can no longer be paid (expired,
  cancelled, rejected) is released: Stripe cancels the uncaptured PaymentIntent, Alipay closes
  the trade (`trade.close`). The release is recorded before the call, like every other;
- a cancelled order whose refund was left for later (Shopify's "refund later") and is still
  owed past its wait is reported to ops, once (`refunds_owed.alert_overdue`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from integrations.db.money_store import MoneyStore
from integrations.service import money
from integrations.service.context import Context
from integrations.service.refunds_owed import alert_overdue
from statemachine.money import OperationKind, OperationStatus
from statemachine.order import UNPAYABLE

RETRY_AFTER = timedelta(minutes=2)  # leave the caller's own first attempt alone


def sweep_money(ctx: Context, now: datetime, limit: int = 100) -> dict[str, int]:
    """Retry what is pending, release what was abandoned, report refunds overdue; counts."""
    retried = retry_pending(ctx, now, limit)
    released = release_abandoned(ctx, now, limit)
    return {"retried": retried, "released": released,
            "refunds_owed_alerted": alert_overdue(ctx, now, limit)}


def retry_pending(ctx: Context, now: datetime, limit: int = 100) -> int:
    """Make again, with their own keys, the provider calls still pending; how many settled."""
    with ctx.tx(readonly=True) as tx:
        keys = MoneyStore(tx.store.sql).pending(now - RETRY_AFTER, limit)
    done = money.execute_quietly(ctx, keys, now)
    return sum(op.status is not OperationStatus.PENDING for op in done)


def release_abandoned(ctx: Context, now: datetime, limit: int = 100) -> int:
    """Record a release (void) of each abandoned payment, then make it; how many settled.
    Checkouts closed for good are set aside first, so the look-up reads only open ones."""
    with ctx.tx() as tx:
        MoneyStore(tx.store.sql).sweep_checkouts(now)
    with ctx.tx(readonly=True) as tx:
        found = MoneyStore(tx.store.sql).abandoned_checkouts(limit)
    keys = []
    for order_no, payment_ref in found:
        with ctx.tx() as tx:
            order = tx.store.get_order(order_no, lock=True)
            if order.state not in UNPAYABLE or order.paid:  # paid meanwhile: nothing to do
                continue
            key = f"void:{order.public_id}:{payment_ref}"  # one release per payment
            keys.append(money.request(
                ctx, tx, order, OperationKind.VOID, order.total, key, "system:money-sweep",
                payment_ref=payment_ref, reason=f"payment released: order {order.state}",
                at=now).key)
    done = money.execute_quietly(ctx, keys, now)
    return sum(op.status is OperationStatus.SUCCEEDED for op in done)
