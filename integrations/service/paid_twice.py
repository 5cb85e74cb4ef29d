"""Money an admin refund brings for units of a refund of ours that a lost chargeback paid
back already: the bank and the merchant both paid the buyer.

A chargeback settles the refunds of ours it pays back (disputes.py, admin_refunds
`settle_paid_back`) and leaves their progress (`admin-refund:<key>`) saying so: `paid_back`
its part, `settled_by` the dispute, `units` those an admin refund had given back before it.
A provider refund of those units then pays them twice, whichever came first: one pending when
the chargeback came is waited for (`waiting`) and paid twice when it succeeds (`paid_twice`);
one naming them after it is matched by units (`given_again`), its money settled then paid twice
at once and its pending transactions waited for in turn. Either way no more is paid twice than
that refund priced the units at: its pending transactions are capped by what it still owes
them (`expects`, per provider refund, admin_progress.expect) — the rest of their money paid
other goods (the tea set beside the case's tin), the order's own refund. A waited transaction
that fails owes nothing again (`paid_back_already`). Paid twice: the money is booked once,
the case not refunded again, the units not marked again, the order counting it within what it
has left, finance told (`orderpilot.order.refund_paid_twice`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from integrations.db.money_store import MoneyStore
from integrations.service import admin_progress, orders
from integrations.service.admin_refunds import GivenBack
from integrations.service.context import Context, Tx
from statemachine.money import (
    REFUNDED_BY_MERCHANT,
    OperationKind,
    OperationStatus,
    PaymentOperation,
)
from statemachine.order_aggregate import Order


def paid_twice(ctx: Context, tx: Tx, order: Order, goods: int, ref: str, transaction: str,
               now: datetime) -> tuple[int, str | None]:
    """A provider refund's transaction settling late (`transaction`, its goods `goods`) for
    units of a refund of ours that a lost chargeback settled while it was pending — or that
    named them after the chargeback (`given_again`): the bank and the merchant both paid them
    back. That money did go to the buyer: the order counts it as a refund of its own, within
    what it has left (what passes it is a loss beyond the order), its units are not marked
    again (the chargeback's settlement marked them), and finance is told
    (`refund_paid_twice`). (goods left for the usual booking, a note for the ledger row; None
    when it pays nothing twice.)"""
    notes = []
    for op, progress in _settled_by_chargeback(tx, order):
        if transaction not in progress["waiting"]:
            continue
        progress["waiting"] = [w for w in progress["waiting"] if w != transaction]
        # at most what its refund priced the units at: the rest of its money paid other goods
        cap = int(progress.get("expects", {}).get(ref, goods))
        twice, note = _pay_twice(ctx, tx, order, op, progress, min(goods, cap), 0, ref,
                                 transaction, now, goods)
        goods -= twice
        notes += [note] if note else []
    return goods, "; ".join(notes) or None


def given_again(ctx: Context, tx: Tx, order: Order, goods: int, ref: str, given: GivenBack,
                paying: str, now: datetime) -> tuple[int, GivenBack, str | None]:
    """A provider refund naming units of a refund of ours that a lost chargeback settled
    before it came (units no admin refund had given back then: the chargeback paid for them) —
    the merchant refunding from a stale list, or its webhook delayed. Matched by units, as
    `settle_covered` matches them, so both orders of arrival end alike: those units are taken
    from `given` (not the order's own refund: not marked again); the goods it gives for them
    now (`goods`, and first those the order `counted` already by amount) are paid twice
    (`_pay_twice`, its transactions `paying`); its transactions still pending are waited for,
    as if pending when the chargeback came (`paid_twice` books them as they settle, and
    `paid_back_already` owes nothing again if they fail). (goods left, `given` less what it
    took, a note for the ledger row or None.)"""
    pool = [[set(nos), units, subtotal, units] for nos, units, subtotal in given.units]
    counted, notes = given.counted, []
    for op, progress in _settled_by_chargeback(tx, order):
        had = sum(int(n) for n in progress["units"].values())
        priced = admin_progress.take_units(op, progress, pool)
        if sum(int(n) for n in progress["units"].values()) == had:
            continue  # it names none of the units the chargeback paid for
        progress.update(refs=sorted({*progress["refs"], ref}),
                        waiting=sorted({*progress["waiting"], *given.waiting}))
        admin_progress.expect(progress, ref, priced, bool(given.waiting))  # caps the pending
        twice, note = _pay_twice(ctx, tx, order, op, progress, min(goods + counted, priced),
                                 counted, ref, paying, now, goods)
        recount = min(twice, counted)
        goods, counted = goods - (twice - recount), counted - recount
        notes += [note] if note else []
    left = tuple((tuple(sorted(nos)), units, subtotal * units // whole)
                 for nos, units, subtotal, whole in pool if units > 0)
    return goods, replace(given, units=left, counted=counted), "; ".join(notes) or None


def _pay_twice(ctx: Context, tx: Tx, order: Order, op: PaymentOperation,
               progress: dict[str, Any], goods: int, counted: int, ref: str,
               transaction: str, now: datetime, uncounted: int) -> tuple[int, str | None]:
    """Of `goods` a provider refund gives for units of `op` a chargeback paid back, what is
    paid a second time (at most the chargeback's part not paid twice yet), with its note: the
    order counts it (all but what it `counted` already) within what it has left once the
    rest of the refund's goods the order has not counted (of `uncounted`: the tea set refunded
    beside the tin, booked next as the order's own refund) are — those were paid for once and
    are the order's refund; the second payment is what may pass the order. Finance is told.
    The progress is kept, what was paid twice added to it."""
    twice = max(min(goods, int(progress.get("paid_back", 0)) - int(progress.get("twice", 0))),
                0)
    progress["twice"] = int(progress.get("twice", 0)) + twice
    admin_progress.expect(progress, ref, -twice, False)
    tx.store.inbox_replace(admin_progress.progress_key(op), "admin-refund", progress, now)
    if twice <= 0:
        return 0, None
    order = tx.store.get_order(order.id, lock=True)
    already = min(twice, counted)  # counted by amount when its money came before its units
    own = max(uncounted - (twice - already), 0)  # the order's own refund, counted after
    fired = max(min(twice - already, order.paid - order.refunded - own), 0)
    why = (f"{ref} paid {op.key}'s units ({op.reason or 'refund'}) a second time: "
           f"{progress['settled_by']} paid them back as well")
    if fired > 0:
        orders.fire(ctx, tx, order, "refund", op.provider, {"amount": fired, "reason": why},
                    now=now)
    tx.writer.signal("refund_paid_twice", "order", order.id, order.id, now, {
        "amount": twice, "currency": op.currency, "counted": already + fired,
        "beyond_order": twice - already - fired, "operation": op.key,
        "case": op.purpose.get("case"), "paid_back_by": progress["settled_by"],
        "refund": ref, "transaction": transaction, "reason": why})
    return twice, why + (f" ({twice - already - fired} beyond what the order had left)"
                         if already + fired < twice else "")


def paid_back_already(tx: Tx, order: Order, transaction: str, now: datetime) -> str | None:
    """A provider refund's transaction that failed after a lost chargeback settled the refund
    of ours it was paying: nothing is owed again (the bank paid the buyer back). Why, and the
    transaction no longer waited for; None if it pays no such refund."""
    why = []
    for op, progress in _settled_by_chargeback(tx, order):
        if transaction not in progress["waiting"]:
            continue
        progress.update(waiting=[w for w in progress["waiting"] if w != transaction])
        tx.store.inbox_replace(admin_progress.progress_key(op), "admin-refund", progress, now)
        why.append(f"{progress['settled_by']} paid {op.key} back")
    return "; ".join(why) or None


def _settled_by_chargeback(tx: Tx, order: Order
                           ) -> list[tuple[PaymentOperation, dict[str, Any]]]:
    """The order's refunds of ours naming units that a lost chargeback settled (their
    progress says `paid_back`), oldest first, each with its progress."""
    found = []
    for op in MoneyStore(tx.store.sql).of_order(order.id):
        if op.kind is OperationKind.REFUND and op.status is OperationStatus.SUCCEEDED \
                and op.provider in REFUNDED_BY_MERCHANT and op.lines:
            progress = admin_progress.progress_of(tx, op)
            if progress.get("paid_back") is not None:
                found.append((op, progress))
    return found
