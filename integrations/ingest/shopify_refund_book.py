"""Booking a Shopify refund's money (integrations/ingest/shopify_refunds.py takes its webhooks,
shopify_refund_read.py reads it): the ledger books the money, the order refunds its own goods,
and what is owed is settled from it — the refunds of ours it gives the units of
(service/admin_refunds.py), the refunds owed again after a failure it redoes
(service/owed_again.py), the refunds of ours made as an amount its money beyond the goods
covers — each amount matched to one thing owed. Also what its failures change: the part of a
failure that was a case's (service/failed_in_admin.py), the units of the order's own refund
taken back when all its money failed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.db.money_store import MoneyStore
from integrations.ingest import shopify
from integrations.ingest.shopify_common import (
    ACTOR,
    ShopifyDelivery,
    held,
    payment_record,
    taken,
)
from integrations.ingest.shopify_refund_read import (
    beyond_key,
    failed_key,
    given_back,
    marked_key,
    transaction_key,
)
from integrations.service import (
    admin_refunds,
    failed_in_admin,
    orders,
    owed_again,
    paid_twice,
)
from integrations.service.context import Context, Tx
from integrations.service.late_payments import given_back_in_admin, owed_in_admin
from statemachine import ids
from statemachine.errors import InvalidInput
from statemachine.money import OperationStatus
from statemachine.order_aggregate import Order, OrderState


def book(ctx: Context, tx: Tx, d: ShopifyDelivery, ours: Order, money: int, goods: int,
         ref: str, reason: str, field: str, given: admin_refunds.GivenBack | None,
         now: datetime, earlier: int = 0) -> tuple[str | None, int, int]:
    """The ledger books the money given back, the order its goods' part within what is left:
    (None when booked, else why not; the money no refund of ours took by its units — with
    `earlier`, booked before it and matched to nothing yet — and the order's own goods of it,
    for `redo_failed`). Never more than the ledger shows Shopify took and has not
    refunded (`taken`: a lost chargeback does not lower it, the buyer is paid twice). Late money
    owed back (an order that never took it: nothing of its own to refund) takes it all. The
    goods go first to the refunds of ours waiting in Shopify's admin whose units `given`
    gives back (admin_refunds.py)."""
    kept = held(tx, ours.id)
    late = owed_in_admin(tx, ours) if ours.paid == 0 else None
    if ours.state == OrderState.CANCELLED and kept == 0 and money > 0:
        return "refunded when Shopify cancelled the order: recorded already", 0, 0
    if late is not None and 0 < money <= kept:
        payment_record(tx, ours.id, "refund", money, ours.currency, ref, d,
                       f"{reason}: late payment {late.payment_ref} given back", now)
        if money == kept:
            given_back_in_admin(tx, ours, late, ref, now)
        return None, money, 0  # it may redo a failed refund of it
    took = taken(tx, ours.id)  # a refund after a lost chargeback pays it twice: allowed
    if money > took:
        raise InvalidInput({field: f"refunds {money} but the ledger holds only {took} of "
                                   f"{ids.ORDER(ours.id)}"})
    priced = goods  # its goods, paid twice or not: what the ledger row says of the money
    if given is not None and given.settled:  # a refund of ours it pays a chargeback paid
        goods, twice = paid_twice.paid_twice(ctx, tx, ours, goods, ref, given.settled, now)
        if twice:
            ours, reason = tx.store.get_order(ours.id), f"{reason} ({twice})"
    elif given is not None and given.units:  # units a lost chargeback paid back before it
        goods, given, twice = paid_twice.given_again(ctx, tx, ours, goods, ref, given,
                                                        ", ".join(given.paying), now)
        if twice:
            ours, reason = tx.store.get_order(ours.id), f"{reason} ({twice})"
    left = ours.paid - ours.refunded
    if goods > left:
        raise InvalidInput({"refund_line_items": f"refunds {goods} but only {left} of "
                                                 f"{ids.ORDER(ours.id)} is left to refund"})
    # first the refunds of ours waiting in Shopify's admin it covers (a case's); units given
    # back with no goods settled yet (its settled part is the shipping) are noted all the same
    own: admin_refunds.Units = []
    if goods or given is not None and given.units:
        goods, settled, own = admin_refunds.settle_covered(ctx, tx, ours, goods, ref, given,
                                                           now)
        if settled:
            ours = tx.store.get_order(ours.id)  # their steps refunded it
            reason += f" (settles {', '.join(settled)})"
    if goods:
        orders.fire(ctx, tx, ours, "refund", ACTOR, {"amount": goods, "reason": reason}, now=now)
    if own:  # and the units of the order's own refund, so no case refunds them again
        admin_refunds.mark_given_back(tx, ours.id, own)
    if money:
        payment_record(tx, ours.id, "refund", money, ours.currency, ref, d,
                       reason if priced == money else f"{reason} (goods {priced} of {money})",
                       now)
    return None, max(money + earlier - (priced - goods), 0), goods


def note_units(ctx: Context, tx: Tx, d: ShopifyDelivery, refund: shopify.ShopifyRefund,
               ours: Order, counted: bool, now: datetime, by_amount: int = 0,
               unpaid: bool = False) -> tuple[list[str], str | None]:
    """A refund whose money is all pending gives back the units of a refund of ours waiting in
    the admin: noted with it (no money yet), so its transaction, settling, settles it; units
    no refund of ours takes are the order's own refund's, marked refunded now (the merchant
    gave them back: no case may ask for them while the money is on its way). `counted`: its
    money was all booked before it, as the order's (its goods `by_amount`): its units are the
    order's — but for those a refund of ours waiting in the admin asks, which that money
    settles (approved after it was booked: before, it stayed owed for ever). The keys of the
    refunds of ours it settled, and what it paid a second time (units a lost chargeback paid
    back, their money counted by amount before it: `paid_twice.given_again`), or None.
    `unpaid`: none of its money has moved yet — the units it marks are kept with it, taken
    back if all of its transactions fail (`unmark_failed`)."""
    given = given_back(tx, d, refund, ours, by_amount)
    if given is None:  # an order placed before line item ids were kept: units unknown
        return [], None
    # units a lost chargeback paid back already: their pending money is paid twice (when it
    # settles), or their money counted by amount is (told now)
    _, given, twice = paid_twice.given_again(ctx, tx, ours, 0, f"shopify:{refund.id}", given,
                                                ", ".join(given.paying), now)
    if counted and not by_amount:
        settled, own = [], [(nos, units) for nos, units, _ in given.units]
    else:
        _, settled, own = admin_refunds.settle_covered(ctx, tx, ours, 0,
                                                       f"shopify:{refund.id}", given, now)
    marked = admin_refunds.mark_given_back(tx, ours.id, own)
    if marked and unpaid:
        tx.store.inbox_put(marked_key(d.shop, refund.id), "shopify-marked-units", {
            "target": ours.id, "lines": {str(no): n for no, n in marked.items()},
            "transactions": list(given.waiting)}, now)
    return settled, twice


def unmark_failed(tx: Tx, d: ShopifyDelivery, ours: Order, refund: Any, now: datetime
                  ) -> dict[int, int]:
    """The units the refund `refund` marked refunded as the order's own while all of its money
    was pending (`note_units`), taken back once every one of its transactions failed: Shopify
    keeps a refund's `refund_line_items` whatever its transactions do (the Refund "doesn't
    guarantee that the money has been returned": its transactions' status says), so nothing
    Shopify sends takes them back — a redo naming the tin again would mark it a second time.
    A transaction of it that succeeded keeps them (part of it was paid). What was taken back."""
    kept = tx.store.inbox_get(marked_key(d.shop, refund)) if refund else None
    if not kept or not kept.get("lines") or any(
            tx.store.inbox_get(transaction_key(d.shop, key)) is not None
            or tx.store.inbox_get(failed_key(d.shop, key)) is None
            for key in kept.get("transactions", [])):
        return {}  # none marked, or part of its money paid or still pending
    tx.store.inbox_replace(marked_key(d.shop, refund), "shopify-marked-units",
                           {**kept, "lines": {}, "taken_back": kept["lines"]}, now)
    return admin_refunds.unmark_given_back(
        tx, ours.id, {int(no): int(n) for no, n in kept["lines"].items()})


def settle_beyond(ctx: Context, tx: Tx, d: ShopifyDelivery, ours: Order, refund_id: Any,
                  beyond: dict[str, Any], now: datetime) -> list[str]:
    """What the refund gave beyond its goods and shipping, as its money comes in (refunds/
    create, then each pending transaction's settlement), settles the refunds of ours naming no
    units that it covers (their keys); what it has not used yet is kept for the money still to
    come (before, only refunds/create's settled part could: one whose money was pending, or
    booked first by order_transactions/create, left the goodwill owed in the admin for ever)."""
    extra = min(beyond["beyond"], max(beyond["money"] - beyond["goods"], 0)) - beyond["used"]
    settled = admin_refunds.settle_beyond_goods(ctx, tx, ours, extra, f"shopify:{refund_id}",
                                                 now) \
        if extra > 0 else []
    store = MoneyStore(tx.store.sql)
    used = beyond["used"] + sum(op.amount for key in settled if (op := store.by_key(key)))
    if used < beyond["beyond"]:
        tx.store.inbox_replace(beyond_key(d.shop, refund_id), "shopify-beyond-goods",
                               {**beyond, "used": used}, now)
    return settled


def redo_failed(tx: Tx, ours: Order, free: int, own: int, ref: str, now: datetime
                ) -> tuple[list[str], int]:
    """The money of a booking no refund of ours took by its units (`free`, the order's `own`
    goods first) redoes the order's refunds owed again after a failure, first
    (service/owed_again.py): (their keys settled, what of the money beyond the goods they
    took — no refund of ours made as an amount may use it again)."""
    took, settled = owed_again.redo(tx, ours, free, ref, now) if free > 0 else (0, [])
    return settled, max(took - own, 0)


def failed_before(tx: Tx, d: ShopifyDelivery, refund: shopify.ShopifyRefund, ours: Order,
                  now: datetime) -> str | None:
    """The refund's transactions whose failure came before it (owed again in full by the
    order, `refund-again:shopify:<id>`, its refund unknown then): the part of each that paid
    units of refunds of ours (a case's) is moved to them (service/failed_in_admin.py). What
    was moved, in words; None if nothing."""
    given = given_back(tx, d, refund, ours)
    store, said = MoneyStore(tx.store.sql), []
    for t in refund.transactions:
        again = store.by_key(f"refund-again:shopify:{t.id}") if t.status in shopify.FAILED \
            and t.kind == "refund" and t.id is not None and given is not None else None
        if again is None or again.status is not OperationStatus.PENDING:
            continue
        parts = failed_in_admin.failed_before_refund(
            tx, ours, again, given.units if given else (),
            f"shopify refund {refund.id}, transaction {t.id}: {t.status}", now)
        if parts:
            said.append(f"transaction {t.id} failed: {failed_in_admin.said(parts)}")
    return "; ".join(said) or None
