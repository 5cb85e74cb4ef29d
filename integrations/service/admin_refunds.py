"""Refunds of ours that the merchant makes in a provider's admin, and the provider's refund
that settles them.

Money a provider in REFUNDED_BY_MERCHANT took (Shopify) is never sent back through the shop's
gateway: a refund of it that orderpilot decides — an after-sales case's, compensation — is
recorded under that provider (money_requests.request), never called (money.execute), its amount
and units spoken for like any refund in flight, and listed as owed (`refund_in_admin`) until the
merchant refunds it in the provider's admin. The provider's refund webhook then settles it:
the goods that refund gives back go first to the refunds of ours they cover, each settled as a
refund the provider made (its case refunded, and through the case its order), not booked a
second time as a refund of its own. The provider does not say which of ours a refund is for
(Shopify's refund names its own line items, not our cases), so it is matched by amount: one
refund of ours asking exactly its goods, else the oldest that fit in them, in turn. Goods
left over are the order's own refund, as before; a refund of less than one of ours settles none
(it stays owed, listed).
"""

from __future__ import annotations

from integrations.db.money_store import MoneyStore
from integrations.service.context import Context, Tx
from integrations.service.money_effects import apply_effects
from statemachine.money import (
    REFUNDED_BY_MERCHANT,
    OperationKind,
    OperationStatus,
    PaymentOperation,
)
from statemachine.order_aggregate import Order
from statemachine.ports import PaymentResult

NOT_OURS = ("late", "failed")  # late money's refund, a provider's refund owed again


def owed_in_admin(tx: Tx, order: Order) -> list[PaymentOperation]:
    """The order's refunds of ours waiting for the merchant in a provider's admin, oldest
    first (not late money's, nor a provider's own refund owed again after it failed)."""
    return [op for op in MoneyStore(tx.store.sql).of_order(order.id)
            if op.kind is OperationKind.REFUND and op.status is OperationStatus.PENDING
            and op.provider in REFUNDED_BY_MERCHANT
            and not any(op.purpose.get(p) for p in NOT_OURS)]


def covered(owed: list[PaymentOperation], goods: int) -> list[PaymentOperation]:
    """Which of `owed` a provider refund giving back `goods` settles: the one asking exactly
    that, else the oldest that fit in it, in turn."""
    exact = next((op for op in owed if op.amount == goods), None)
    if exact is not None:
        return [exact]
    chosen, left = [], goods
    for op in owed:
        if 0 < op.amount <= left:
            chosen.append(op)
            left -= op.amount
    return chosen


def settle_covered(ctx: Context, tx: Tx, order: Order, goods: int, ref: str
                   ) -> tuple[int, list[str]]:
    """Settle the order's refunds of ours that a provider refund of `goods` (its refund `ref`)
    covers, in the caller's transaction (the order's turn taken): (goods left over for the
    order's own refund, keys settled). Each is settled once: a guarded update."""
    goods, settled = _settle(ctx, tx, order, covered(owed_in_admin(tx, order), goods), goods,
                             ref)
    return goods, settled


def settle_beyond_goods(ctx: Context, tx: Tx, order: Order, amount: int, ref: str
                        ) -> list[str]:
    """Settle the order's refunds of ours that name no units (goodwill, compensation) that a
    provider refund of `amount` beyond its goods and shipping covers (matched as `covered`):
    the merchant makes them as an amount, no line items, so no goods would ever settle them.
    Keys settled."""
    owed = [op for op in owed_in_admin(tx, order) if not op.lines]
    return _settle(ctx, tx, order, covered(owed, amount), amount, ref)[1]


def settle_all(ctx: Context, tx: Tx, order: Order, ref: str) -> list[str]:
    """Settle every refund of ours the order owes in a provider's admin: the provider gave
    back all it held (Shopify's cancellation refunded in full, `ref`), theirs among it — no
    refunds/create will name them (it books nothing more). Keys settled."""
    owed = owed_in_admin(tx, order)
    return _settle(ctx, tx, order, owed, sum(op.amount for op in owed), ref)[1]


def _settle(ctx: Context, tx: Tx, order: Order, chosen: list[PaymentOperation], goods: int,
            ref: str) -> tuple[int, list[str]]:
    store, settled = MoneyStore(tx.store.sql), []
    for op in chosen:
        if not store.settle(op.key, OperationStatus.SUCCEEDED, ctx.clock.now(), ref):
            continue
        result = PaymentResult("refund", ref, op.payment_ref or ref, op.amount, op.currency,
                               op.key, op.lines)
        apply_effects(ctx, tx, tx.store.get_order(order.id, lock=True), op, result)
        goods -= op.amount
        settled.append(op.key)
    return goods, settled
