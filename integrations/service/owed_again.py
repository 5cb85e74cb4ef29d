"""A refund the merchant made in a provider's admin that failed at the gateway is owed again by
the order (`refund-again:<provider>:<transaction>`, purpose `failed`: ingest/shopify_refunds.py)
until money the merchant refunds there since redoes it. Each amount booked is matched to at
most one thing owed — before, any refund booked since the failure counted toward it, so the
same money also settled a goodwill refund of ours or a case's, or a case's refund by units
counted toward it as well.

The matching order, for the money of one booking:
1. units: goods a refund gives back for the units of a refund of ours (a case's) go to it
   (admin_refunds.settle_covered) — they say whose they are, so they redo no failure;
2. the failures being redone: the rest (the order's own goods, shipping, an amount with no
   line items) goes to the refunds owed again, oldest failure first, each up to what it still
   lacks (`given` in its progress, `admin-refund:<key>`, read by refunds_owed);
3. refunds of ours made as an amount (goodwill, compensation, the rest of a case's refund, a
   case's refund whose admin refund failed with nothing paid): what is left of the money beyond
   the refund's goods (admin_refunds.settle_beyond_goods).
An amount cannot say what it is for: taken as the redo of the failure first, because finance's
list told the merchant to make that refund again; a goodwill refund made as the same amount is
still listed until more money comes.
"""

from __future__ import annotations

from datetime import datetime

from integrations.db.money_store import MoneyStore
from integrations.service import admin_progress, admin_refunds
from integrations.service.context import Context, Tx
from statemachine.money import (
    REFUNDED_BY_MERCHANT,
    OperationKind,
    OperationStatus,
    PaymentOperation,
)
from statemachine.order_aggregate import Order


def owed_again(tx: Tx, order: Order) -> list[PaymentOperation]:
    """The order's refunds owed again after a provider's refund failed, oldest first."""
    return [op for op in MoneyStore(tx.store.sql).of_order(order.id)
            if op.kind is OperationKind.REFUND and op.status is OperationStatus.PENDING
            and op.provider in REFUNDED_BY_MERCHANT and op.purpose.get("failed")]


def redo(tx: Tx, order: Order, money: int, ref: str, now: datetime) -> tuple[int, list[str]]:
    """Match `money` the provider's refund `ref` booked (what no refund of ours took by its
    units) to the order's refunds owed again, oldest failure first, each up to what it still
    lacks: settled once it lacks nothing. (What of `money` they took, the keys settled.)"""
    took, settled = 0, []
    for op in owed_again(tx, order):
        progress = admin_progress.progress_of(tx, op)
        give = min(money - took, op.amount - progress["given"])
        if give <= 0:
            continue
        progress.update(given=progress["given"] + give, refs=sorted({*progress["refs"], ref}))
        tx.store.inbox_replace(admin_progress.progress_key(op), "admin-refund", progress, now)
        took += give
        if progress["given"] >= op.amount \
                and MoneyStore(tx.store.sql).settle(op.key, OperationStatus.SUCCEEDED, now, ref):
            settled.append(op.key)
    return took, settled


def refunded_in_full(ctx: Context, tx: Tx, order: Order, money: int, ref: str,
                     now: datetime) -> list[str]:
    """The provider gave back all it held (`money`: Shopify's cancellation refunded in full,
    `ref`): every refund of ours owed in its admin is settled (admin_refunds.settle_all), and
    what is left of the money redoes the refunds owed again after a failure. Keys settled."""
    settled = admin_refunds.settle_all(ctx, tx, order, ref, now)
    store = MoneyStore(tx.store.sql)
    theirs = sum(op.amount for key in settled if (op := store.by_key(key)) is not None)
    return settled + redo(tx, order, max(money - theirs, 0), ref, now)[1]
