"""Cancel after payment, as a saga: the stock came back in the cancel transaction (and the order
counted the money as refunded); the money goes back through the gateway afterwards (network I/O
after commit), then the buyer is told. An order rejected after the buyer paid (the money came
while a person reviewed it) is settled the same way: the reject step counted the refund.

Like every money movement, the refund is recorded first (a pending operation keyed
`cancel-refund:o-N`), the provider is called with that key, and the answer settles it once —
into the ledger. A gateway that declines is recorded too, for a person to follow up (the
cancellation itself stands: it is the compensation that cannot be undone).

Staff may refund the order by hand at the provider's dashboard before the job runs: the
provider's notice books that refund toward the cancellation (a settled operation keyed
`cancel-refund:o-N@<provider>:<notice id>`, ingest/money_events.py), and the job then asks the
provider only for what is left — nothing if it was all.
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
    left: int  # owed less what was refunded at the provider's dashboard meanwhile
    key: str
    settled: bool


def refund_key(order_id: str) -> str:
    """The key of a cancellation's refund (`cancel-refund:o-N`)."""
    return f"cancel-refund:{order_id}"


def cancellation(ctx: Context, order_id: int) -> Cancellation:
    """The cancelled (or rejected) order, what it owes the buyer, what of that is still to pay
    back, and whether it was all paid back already."""
    with ctx.tx(readonly=True) as tx:
        order = tx.store.get_order(order_id)
        ended = [h for h in tx.store.history(order_id) if h["trigger"] in ENDING_STEPS]
        owed = int(ended[-1]["payload"].get("refund", 0)) if ended else 0
        key = refund_key(order.public_id)
        operations = MoneyStore(tx.store.sql).of_order(order_id)
        done = next((op for op in operations if op.key == key), None)
        left = max(owed - _refunded_at_provider(operations, order.public_id, key), 0)
        settled = tx.store.inbox_get(key) is not None or (  # the inbox: before operations
            done is not None and done.status is OperationStatus.SUCCEEDED) or (
            owed > 0 and left == 0 and done is None)
        return Cancellation(order=OrderView.of(order), owed=owed, left=left, key=key,
                            settled=settled)


def _refunded_at_provider(operations: list[PaymentOperation], order_id: str, key: str) -> int:
    """Refunds toward the cancellation the provider reported as made at its dashboard (booked
    by its notice under `<key>@<provider>:<notice>`, ingest/money_events.py)."""
    return sum(op.amount for op in operations if op.kind is OperationKind.REFUND
               and op.status is OperationStatus.SUCCEEDED and op.key.startswith(f"{key}@")
               and op.purpose.get("cancel") == order_id)


def request_refund(ctx: Context, case: Cancellation, provider: str) -> PaymentOperation:
    """Record the refund to make (pending) before the provider is called: what is left of the
    amount owed; a repeat returns the first record (made before a dashboard refund, it keeps
    its amount: the provider refuses more than the payment has left, and staff are told)."""
    with ctx.tx() as tx:
        order = tx.store.get_order(ids.ORDER.parse(case.order.id), lock=True)
        prior = MoneyStore(tx.store.sql).by_key(case.key)
        return money.request(ctx, tx, order, OperationKind.REFUND,
                             prior.amount if prior else case.left, case.key,
                             "system:settle-cancel", purpose={"cancel": case.order.id},
                             reason=f"order {case.order.state}", provider=provider)


def record_failure(ctx: Context, case: Cancellation, problem: str) -> None:
    """The gateway refused the refund: the operation fails (no retry) and a person is told."""
    number, now = ids.ORDER.parse(case.order.id), ctx.clock.now()
    money.fail(ctx, case.key, problem)
    with ctx.tx() as tx:
        tx.writer.signal("refund_failed", "order", number, number, now, {
            "amount": case.left, "problem": problem[:500], "state": case.order.state})
