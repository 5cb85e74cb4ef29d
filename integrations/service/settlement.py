"""Cancel after payment, as a saga: the stock came back in the cancel transaction (and the order
counted the money as refunded); the money goes back through the gateway afterwards (network I/O
after commit), then the buyer is told. An order rejected after the buyer paid (the money came
while a person reviewed it) is settled the same way: the reject step counted the refund.

Like every money movement, the refund is recorded first (a pending operation keyed
`cancel-refund:o-N`), the provider is called with that key, and the answer settles it once —
into the ledger. A gateway that declines is recorded too, for a person to follow up (the
cancellation itself stands: it is the compensation that cannot be undone).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from integrations.db.money_store import MoneyStore
from integrations.service import money
from integrations.service.context import Context
from integrations.service.views import OrderView
from statemachine import ids
from statemachine.money import OperationKind, OperationStatus, PaymentOperation

ENDING_STEPS = ("cancel", "reject")  # the steps that count what was paid as refunded


class Cancellation(BaseModel):
    model_config = ConfigDict(frozen=True)
    order: OrderView
    owed: int
    key: str
    settled: bool


def cancellation(ctx: Context, order_id: int) -> Cancellation:
    """The cancelled (or rejected) order, what it owes the buyer, and whether that was already
    paid back."""
    with ctx.tx(readonly=True) as tx:
        order = tx.store.get_order(order_id)
        ended = [h for h in tx.store.history(order_id) if h["trigger"] in ENDING_STEPS]
        owed = int(ended[-1]["payload"].get("refund", 0)) if ended else 0
        key = f"cancel-refund:{order.public_id}"
        done = MoneyStore(tx.store.sql).by_key(key)
        settled = tx.store.inbox_get(key) is not None or (  # the inbox: before operations
            done is not None and done.status is OperationStatus.SUCCEEDED)
        return Cancellation(order=OrderView.of(order), owed=owed, key=key, settled=settled)


def request_refund(ctx: Context, case: Cancellation, provider: str) -> PaymentOperation:
    """Record the refund to make (pending) before the provider is called; a repeat returns
    the first record."""
    with ctx.tx() as tx:
        order = tx.store.get_order(ids.ORDER.parse(case.order.id), lock=True)
        return money.request(ctx, tx, order, OperationKind.REFUND, case.owed, case.key,
                             "system:settle-cancel", purpose={"cancel": case.order.id},
                             reason=f"order {case.order.state}", provider=provider)


def record_failure(ctx: Context, case: Cancellation, problem: str) -> None:
    """The gateway refused the refund: the operation fails (no retry) and a person is told."""
    number, now = ids.ORDER.parse(case.order.id), ctx.clock.now()
    money.fail(ctx, case.key, problem)
    with ctx.tx() as tx:
        tx.writer.signal("refund_failed", "order", number, number, now, {
            "amount": case.owed, "problem": problem[:500], "state": case.order.state})
