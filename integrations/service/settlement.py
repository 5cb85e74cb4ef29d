"""Cancel after payment, as a saga: the stock came back in the cancel transaction; the money
goes back through the gateway afterwards (network I/O after commit), then the buyer is told.

The settlement is claimed once per order in the inbox table, with the gateway receipt, in the
transaction that records it; a gateway that declines is recorded too, for a person to follow up
(the cancellation itself stands: it is the compensation that cannot be undone).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import IntegrityError

from integrations.service import money
from integrations.service.context import Context
from integrations.service.views import OrderView
from statemachine.ports import PaymentResult


class Cancellation(BaseModel):
    model_config = ConfigDict(frozen=True)
    order: OrderView
    owed: int
    key: str
    settled: bool


def cancellation(ctx: Context, order_id: int) -> Cancellation:
    """The cancelled order, what it owes the buyer, and whether that was already paid back."""
    with ctx.tx(readonly=True) as tx:
        order = tx.store.get_order(order_id)
        cancel = [h for h in tx.store.history(order_id) if h["trigger"] == "cancel"]
        owed = int(cancel[-1]["payload"].get("refund", 0)) if cancel else 0
        key = f"cancel-refund:{order.public_id}"
        return Cancellation(order=OrderView.of(order), owed=owed, key=key,
                            settled=tx.store.inbox_get(key) is not None)


def record_refund(ctx: Context, case: Cancellation, receipt: PaymentResult,
                  provider: str | None = None) -> bool:
    """Claim the settlement and record it, in the ledger too (what a provider's refund
    webhook and the settlement reconciliation compare with); False if already recorded."""
    number, now = int(case.order.id[2:]), ctx.clock.now()
    provider = provider or ctx.gateway.provider
    try:
        with ctx.tx() as tx:
            tx.store.inbox_put(case.key, "cancel-refund", {"receipt": receipt.ref}, now)
            order = tx.store.get_order(number, lock=True)
            money.ledger(tx, order, "refund", receipt.amount, receipt.ref,
                         f"{provider}:{case.key}", now, reason="order cancelled")
            tx.writer.signal("refund_settled", "order", number, number, now, {
                "amount": receipt.amount, "receipt": receipt.ref,
                "payment_ref": receipt.payment_ref, "state": case.order.state})
    except IntegrityError:
        return False
    return True


def record_failure(ctx: Context, case: Cancellation, problem: str) -> None:
    """The gateway refused the refund: announce it for a person to follow up."""
    number, now = int(case.order.id[2:]), ctx.clock.now()
    with ctx.tx() as tx:
        tx.writer.signal("refund_failed", "order", number, number, now, {
            "amount": case.owed, "problem": problem[:500], "state": case.order.state})
