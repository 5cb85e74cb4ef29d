"""Shopify's money given back: refunds/create and order_transactions/create, each booked once.

A refund's money is its refund transactions. One that succeeded is booked when the first
webhook bringing it settled arrives: the refund (refunds/create) or the transaction itself
(order_transactions/create, which Shopify sends when a transaction is created or its status
changes to success, failure or error; never for pending). Each Shopify transaction id is kept
once (`shopify:<shop>:transaction:<id>`), so the same money is never booked twice, whichever
webhook or webhook id delivers it. A transaction still pending when its refund arrives books
nothing; its share of the refund's goods is kept with it (`shopify:<shop>:pending-refund:<id>`)
and booked when it settles, because Shopify does not send refunds/create again then.

The ledger books the money (goods, shipping, tax); the order `refund`s its goods' part, within
what is left. A settled transaction whose refund has not arrived yet (it may never: a delivery
lost) books its money, and counts as goods what of it passes what Shopify holds beyond the
goods (shipping, tax) — never more than its true goods, whose units are unknown; the refund,
when it comes, counts the rest of its goods. Both take the Shopify order's turn, so the refund and
its transaction's settlement never miss each other.

A refund of ours owed in Shopify's admin (an after-sales case's: orderpilot never refunds money
Shopify took) is settled by the refund that gives its units back (its line items, read as our
lines through the ids kept at placement: service/admin_refunds.py), not refunded a second
time; while one waits, a transaction settled before its refund counts no goods by amount — its
refund names them.

This module takes the webhooks; reading a refund (its settled and pending money, its units as
our lines, its money beyond the goods) is shopify_refund_read.py, booking it and what it settles
shopify_refund_book.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.db import records
from integrations.db.money_store import MoneyStore
from integrations.ingest import shopify
from integrations.ingest.once import Applied, Outcome, once, order_body
from integrations.ingest.shopify_common import (
    ACTOR,
    ShopifyDelivery,
    lines_key,
    lookup,
    one_at_a_time,
)
from integrations.ingest.shopify_refund_book import (
    book,
    failed_before,
    note_units,
    redo_failed,
    settle_beyond,
    unmark_failed,
)
from integrations.ingest.shopify_refund_read import (
    beyond_goods,
    beyond_key,
    failed_key,
    given_back,
    goods_by_amount,
    nothing_moved,
    pending_key,
    settled_now,
    transaction_key,
)
from integrations.service import (
    admin_refunds,
    failed_in_admin,
    money_requests,
    paid_twice,
)
from integrations.service.context import Context, Tx
from integrations.service.inputs import parse
from statemachine import ids
from statemachine.currency import minor
from statemachine.errors import InvalidInput, NotFound
from statemachine.money import OperationKind
from statemachine.order_aggregate import Order


def refunded(ctx: Context, d: ShopifyDelivery) -> Outcome:
    """refunds/create: book what has settled of the refund, once per Shopify refund id."""
    refund = parse(shopify.ShopifyRefund, d.payload)

    def apply(tx: Tx, _: Any, now: datetime) -> Applied:
        ours = _order_for_money(tx, d.shop, refund.order_id, shopify.refund_currency(refund),
                                "transactions[0].currency")
        kept = tx.store.inbox_keep(f"shopify:{d.shop}:refund:{refund.id}", "shopify-refund",
                                   {"action": "refunded", "target": ours.id, "by": d.event_id},
                                   now)
        if kept.get("by") != d.event_id:
            return _answer(tx, ours, f"refund {refund.id} was handled already "
                                     f"(webhook {kept.get('by')})")
        moved = failed_before(tx, d, refund, ours, now)
        money, goods, waiting, earlier, counted, deferred = settled_now(tx, d, refund, ours,
                                                                        now)
        beyond = beyond_goods(tx, d, refund, ours)
        if money == goods == 0 and moved:  # all failed: its failures were the case's
            return Applied(ours.id, True, {"order": order_body(tx, ours.id)}, moved)
        if money == goods == 0:
            # its units are noted now (its transactions' settlement names none), and settle
            # a refund of ours asking them with the goods those counted by amount before it
            noted, twice = note_units(ctx, tx, d, refund, ours, earlier and not waiting,
                                      now, counted, unpaid=not earlier) \
                if waiting or earlier else ([], None)
            # money its transactions booked before it, while a refund of ours waited
            redone, used = redo_failed(tx, ours, deferred, 0, f"shopify:{refund.id}", now)
            settled = noted + redone + settle_beyond(ctx, tx, d, ours, refund.id,
                                                     {**beyond, "used": used}, now)
            if twice:  # its units were paid back by a chargeback: finance told, said here
                return Applied(ours.id, True, {"order": order_body(tx, ours.id)}, twice)
            return _answer(tx, ours, None if settled else nothing_moved(refund, waiting,
                                                                          earlier))
        reason = f"shopify refund {refund.id}" + (f": {refund.note}" if refund.note else "")
        note, free, own = book(ctx, tx, d, ours, money, goods, f"shopify:{refund.id}",
                               reason, "transactions", given_back(tx, d, refund, ours,
                                                                   counted), now, deferred)
        if note is None:
            _, used = redo_failed(tx, ours, free, own, f"shopify:{refund.id}", now)
            settle_beyond(ctx, tx, d, ours, refund.id, {**beyond, "used": used}, now)
        return _answer(tx, ours, note)

    return once(ctx, "shopify", "refunds.create", d, apply)


def transaction(ctx: Context, d: ShopifyDelivery) -> Outcome:
    """order_transactions/create: a refund transaction that succeeded is booked once per
    Shopify transaction id (with its refund's goods when the refund arrived pending)."""
    t = parse(shopify.ShopifyTransaction, d.payload)
    if t.kind == "refund" and t.status in shopify.FAILED:
        return _refund_failed(ctx, d, t)
    if t.kind != "refund" or t.status != shopify.SETTLED:
        return Outcome(200, {"applied": False, "duplicate": False, "note": (
            f"a {t.kind} transaction ({t.status or 'no status'}): orderpilot books refunds "
            "that succeeded (payments come with orders/paid)")})

    def apply(tx: Tx, _: Any, now: datetime) -> Applied:
        ours = _order_for_money(tx, d.shop, t.order_id, t.currency, "currency")
        money = minor(t.amount, ours.currency, "amount")
        pending = tx.store.inbox_get(pending_key(d.shop, str(t.id))) or {}
        refund = pending.get("refund")
        # a refund of ours waits in Shopify's admin: goods by amount could settle part of it;
        # its refund (refunds/create) names them, and settles it (`book`)
        waits = not refund and bool(admin_refunds.owed_in_admin(tx, ours))
        goods = int(pending.get("goods", 0)) if refund else \
            0 if waits else goods_by_amount(tx, ours, money)
        kept = tx.store.inbox_keep(transaction_key(d.shop, str(t.id)), "shopify-transaction",
                                   {"action": "refunded", "target": ours.id,
                                    "by": d.event_id, "goods": goods}, now)
        if kept.get("by") != d.event_id:
            return _answer(tx, ours, f"transaction {t.id} was booked already "
                                     f"(webhook {kept.get('by')})")
        reason = (f"shopify refund {refund}: settled (transaction {t.id})" if refund
                  else f"shopify refund transaction {t.id}, its refund not received yet: "
                       + ("no goods counted until it names them (a refund of ours waits in "
                          "Shopify's admin)" if waits else
                          f"{goods} counted as goods by amount, units unknown"))
        lines = tx.store.inbox_get(lines_key(d.shop, t.order_id))
        given = admin_refunds.GivenBack(settled=str(t.id)) if lines else None
        ref = f"shopify:{refund}" if refund else f"shopify:transaction:{t.id}"
        note, free, own = book(ctx, tx, d, ours, money, goods, ref, reason, "amount", given,
                               now)
        used = 0
        if note is None and waits:  # it may be the waiting refund's: its refund will say
            tx.store.inbox_replace(transaction_key(d.shop, str(t.id)), "shopify-transaction",
                                   {**kept, "unmatched": free}, now)
        elif note is None:
            _, used = redo_failed(tx, ours, free, own, ref, now)
        kept_beyond = tx.store.inbox_get(beyond_key(d.shop, refund)) if refund else None
        if note is None and kept_beyond is not None:  # its refund's money, now more of it
            settle_beyond(ctx, tx, d, ours, refund, {
                **kept_beyond, "money": kept_beyond["money"] + money,
                "goods": kept_beyond["goods"] + goods, "used": kept_beyond["used"] + used},
                now)
        return _answer(tx, ours, note)

    return once(ctx, "shopify", "order_transactions.create", d, apply)


def _refund_failed(ctx: Context, d: ShopifyDelivery, t: shopify.ShopifyTransaction) -> Outcome:
    """order_transactions/create, a refund transaction that failed (failure, error) — one that
    was pending, or failed at once: the buyer is not paid back. Ops are told at once
    (orderpilot.order.refund_failed), the ledger records the attempt (`refund_failed`, no money
    moved), and the refund is owed again (a pending operation never called: to redo in
    Shopify's admin), listed by refunds_owed.py until Shopify's refunds book it. Once per
    Shopify transaction id."""

    def apply(tx: Tx, _: Any, now: datetime) -> Applied:
        ours = _order_for_money(tx, d.shop, t.order_id, t.currency, "currency")
        key = f"refund-again:shopify:{t.id}"
        kept = tx.store.inbox_keep(failed_key(d.shop, str(t.id)),
                                   "shopify-failed-transaction", {"by": d.event_id},
                                   now)  # once, owed again or not
        if MoneyStore(tx.store.sql).by_key(key) is not None or kept.get("by") != d.event_id:
            return _answer(tx, ours, f"transaction {t.id}'s failure was recorded already")
        amount = minor(t.amount, ours.currency, "amount")
        refund = (tx.store.inbox_get(pending_key(d.shop, str(t.id))) or {}).get("refund")
        why = (f"shopify refund {refund or '(not received)'} failed at the gateway "
               f"(transaction {t.id}: {t.status}): the buyer is not paid back; refund again in "
               "Shopify's admin")
        ours = tx.store.get_order(ours.id, lock=True)
        freed = unmark_failed(tx, d, ours, refund, now)  # the buyer was not paid back
        paid_back = paid_twice.paid_back_already(tx, ours, str(t.id), now)
        # the part of it that was paying refunds of ours (a case's) is owed again by them
        parts = [] if paid_back else failed_in_admin.failed_while_waited(
            ctx, tx, ours, str(t.id), amount, f"shopify:{refund}" if refund else None,
            f"shopify refund {refund}, transaction {t.id}: {t.status}", now)
        rest = amount - sum(part for _, part in parts)
        if paid_back:  # the refund of ours it was paying was settled by a lost chargeback
            why = (f"shopify refund {refund or '(not received)'} failed at the gateway "
                   f"(transaction {t.id}: {t.status}): nothing owed again, {paid_back}")
        elif parts:
            why = f"{why}: {failed_in_admin.said(parts)}" + (
                f", {rest} of it the order's own" if rest else "")
        if freed:
            why += "; its units are no longer refunded (" + ", ".join(
                f"line {no}: {n}" for no, n in sorted(freed.items())) + ")"
        if not paid_back and rest > 0:
            ours = tx.store.get_order(ours.id, lock=True)  # a case settled may have moved it
            money_requests.request(ctx, tx, ours, OperationKind.REFUND, rest, key, ACTOR,
                                   payment_ref=ours.payment_ref or f"shopify:{t.order_id}",
                                   purpose={"failed": str(t.id)}, reason=why, provider=ACTOR,
                                   at=now)
        records.payment_add(tx.connection, {
            "order_id": ours.id, "kind": "refund_failed", "amount": amount,
            "currency": ours.currency, "provider_ref": f"shopify:transaction:{t.id}",
            "case_id": None, "event_key": f"op:{key}", "reason": why, "at": now})
        tx.writer.signal("refund_failed", "order", ours.id, ours.id, now, {
            "amount": amount, "currency": ours.currency, "transaction": t.id, "refund": refund,
            "status": t.status, "reason": why})
        return Applied(ours.id, True, {"order": order_body(tx, ours.id)}, why)

    return once(ctx, "shopify", "order_transactions.create", d, apply)


def _order_for_money(tx: Tx, shop: str, shopify_id: int, currency: str | None,
                     field: str) -> Order:
    """Our order for this Shopify money, in turn with the order's other deliveries."""
    one_at_a_time(tx, shop, shopify_id)
    number = lookup(tx, shop, shopify_id)
    if number is None:
        raise NotFound("order", f"shopify {shopify_id}")
    ours = tx.store.get_order(number)
    if currency and currency != ours.currency:
        raise InvalidInput({field: f"order {ids.ORDER(number)} is in {ours.currency} "
                                   f"(got {currency})"})
    return ours


def _answer(tx: Tx, ours: Order, note: str | None) -> Applied:
    return Applied(ours.id, note is None, {"order": order_body(tx, ours.id)}, note)
