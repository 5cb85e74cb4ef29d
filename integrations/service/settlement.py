"""Cancel after payment, as a saga: the stock came back in the cancel transaction (and the order
counted the money as refunded); the money goes back through the gateway afterwards (network I/O
after commit), then the buyer is told. An order rejected after the buyer paid (the money came
while a person reviewed it) is settled the same way: the reject step counted the refund.

Like every money movement, the refund is recorded first (a pending operation keyed
`cancel-refund:o-N`), the provider is called with that key, and the answer settles it once —
into the ledger. A gateway that declines is recorded too, for a person to follow up (the
cancellation itself stands: it is the compensation that cannot be undone).

Staff may refund the order by hand at the provider's dashboard: the provider's notice books
that refund toward the cancellation (a settled operation keyed
`cancel-refund:o-N@<provider>:<notice id>`, service/outside_refunds.py). What is left is read
again under the order's lock when the job records its refund, so it asks only for that —
nothing if it was all. A dashboard refund that lands after the job recorded its refund
supersedes it (the provider would refuse the excess): the notice asks for the rest under
`cancel-refund:o-N:2`, and the job, refused meanwhile, follows that attempt instead of telling
staff of a failure.
"""

from __future__ import annotations

from uuid import uuid4

from pydantic import BaseModel, ConfigDict

from integrations.db.money_store import MoneyStore
from integrations.service import money
from integrations.service.context import Context, Tx
from integrations.service.outside_refunds import (
    attempts,
    cancel_refund_key,
    owed_by_ending,
    paid_back,
)
from integrations.service.views import OrderView
from statemachine import ids
from statemachine.money import OperationKind, PaymentOperation
from statemachine.order_aggregate import Order

refund_key = cancel_refund_key  # the key of a cancellation's refund (`cancel-refund:o-N`)


class Cancellation(BaseModel):
    model_config = ConfigDict(frozen=True)
    order: OrderView
    owed: int
    left: int  # owed less what was paid back (at the provider's dashboard, or by us)
    key: str  # `cancel-refund:o-N`; a later attempt is `<key>:2` …
    attempt: str | None  # our latest refund of it, if any
    settled: bool


def cancellation(ctx: Context, order_id: int) -> Cancellation:
    """The cancelled (or rejected) order, what it owes the buyer, what of that is still to pay
    back, and whether it was all paid back already."""
    with ctx.tx(readonly=True) as tx:
        order = tx.store.get_order(order_id)
        owed, key = owed_by_ending(tx, order), refund_key(order.public_id)
        left, latest = _left(tx, order, owed, key)
        settled = tx.store.inbox_get(key) is not None or (  # the inbox: before operations
            owed > 0 and left == 0)
        return Cancellation(order=OrderView.of(order), owed=owed, left=left, key=key,
                            attempt=latest.key if latest else None, settled=settled)


def _left(tx: Tx, order: Order, owed: int, key: str) -> tuple[int, PaymentOperation | None]:
    operations = MoneyStore(tx.store.sql).of_order(order.id)
    ours = attempts(operations, key)
    return max(owed - paid_back(operations, key), 0), (ours[-1] if ours else None)


def request_refund(ctx: Context, case: Cancellation, provider: str) -> PaymentOperation | None:
    """Our refund to make: the latest attempt if there is one (pending: made again under its
    key; failed or made: as it ended), else one recorded (pending) before the provider is
    called, for what is left — read again under the order's lock, so a dashboard refund booked
    since `cancellation` is not asked for twice. None: nothing is left."""
    now = ctx.clock.now()
    with ctx.tx() as tx:
        order = tx.store.get_order(ids.ORDER.parse(case.order.id), lock=True)
        left, latest = _left(tx, order, case.owed, case.key)
        if latest is not None:
            return latest
        if left == 0:
            return None
        return money.request(ctx, tx, order, OperationKind.REFUND, left, case.key,
                             "system:settle-cancel", purpose={"cancel": case.order.id},
                             reason=f"order {case.order.state}", provider=provider, at=now)


def record_failure(ctx: Context, case: Cancellation, key: str, problem: str) -> bool:
    """The gateway refused the refund for good: the operation fails (no retry), and staff are
    told — once per refused operation, however often the job runs again (True: told now).
    The money stays owed under the debt's key: refunds_owed lists it (`refund_refused`)."""
    number, now = ids.ORDER.parse(case.order.id), ctx.clock.now()
    money.fail(ctx, key, problem, now)  # the operation failed when staff were told
    with ctx.tx() as tx:
        mine = {"operation": key, "claim": uuid4().hex}  # a concurrent run keeps its own
        if tx.store.inbox_keep(f"{REFUSED}{key}", "refund-refused", mine, now) != mine:
            return False
        tx.writer.signal("refund_failed", "order", number, number, now, {
            "amount": case.left, "problem": problem[:500], "state": case.order.state})
    return True


REFUSED = "refund-refused:"  # inbox: staff were told of this refused operation
