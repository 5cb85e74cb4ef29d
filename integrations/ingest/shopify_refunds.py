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
    held,
    lines_key,
    lookup,
    one_at_a_time,
    payment_record,
    taken,
)
from integrations.service import (
    admin_refunds,
    failed_in_admin,
    money_requests,
    orders,
    owed_again,
    paid_twice,
)
from integrations.service.context import Context, Tx
from integrations.service.inputs import parse
from integrations.service.late_payments import given_back_in_admin, owed_in_admin
from statemachine import ids
from statemachine.currency import minor
from statemachine.errors import InvalidInput, NotFound
from statemachine.money import OperationKind, OperationStatus
from statemachine.order_aggregate import Order, OrderState


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
        moved = _failed_before(tx, d, refund, ours, now)
        money, goods, waiting, earlier, counted, deferred = _settled_now(tx, d, refund, ours,
                                                                         now)
        beyond = _beyond_goods(tx, d, refund, ours)
        if money == goods == 0 and moved:  # all failed: its failures were the case's
            return Applied(ours.id, True, {"order": order_body(tx, ours.id)}, moved)
        if money == goods == 0:
            # its units are noted now (its transactions' settlement names none), and settle
            # a refund of ours asking them with the goods those counted by amount before it
            noted, twice = _note_units(ctx, tx, d, refund, ours, earlier and not waiting,
                                       now, counted, unpaid=not earlier) \
                if waiting or earlier else ([], None)
            # money its transactions booked before it, while a refund of ours waited
            redone, used = _redo_failed(tx, ours, deferred, 0, f"shopify:{refund.id}", now)
            settled = noted + redone + _settle_beyond(ctx, tx, d, ours, refund.id,
                                                      {**beyond, "used": used}, now)
            if twice:  # its units were paid back by a chargeback: finance told, said here
                return Applied(ours.id, True, {"order": order_body(tx, ours.id)}, twice)
            return _answer(tx, ours, None if settled else _nothing_moved(refund, waiting,
                                                                          earlier))
        reason = f"shopify refund {refund.id}" + (f": {refund.note}" if refund.note else "")
        note, free, own = _book(ctx, tx, d, ours, money, goods, f"shopify:{refund.id}",
                                reason, "transactions", _given_back(tx, d, refund, ours,
                                                                    counted), now, deferred)
        if note is None:
            _, used = _redo_failed(tx, ours, free, own, f"shopify:{refund.id}", now)
            _settle_beyond(ctx, tx, d, ours, refund.id, {**beyond, "used": used}, now)
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
        pending = tx.store.inbox_get(_pending_key(d.shop, str(t.id))) or {}
        refund = pending.get("refund")
        # a refund of ours waits in Shopify's admin: goods by amount could settle part of it;
        # its refund (refunds/create) names them, and settles it (`_book`)
        waits = not refund and bool(admin_refunds.owed_in_admin(tx, ours))
        goods = int(pending.get("goods", 0)) if refund else \
            0 if waits else _goods_by_amount(tx, ours, money)
        kept = tx.store.inbox_keep(_transaction_key(d.shop, str(t.id)), "shopify-transaction",
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
        note, free, own = _book(ctx, tx, d, ours, money, goods, ref, reason, "amount", given,
                                now)
        used = 0
        if note is None and waits:  # it may be the waiting refund's: its refund will say
            tx.store.inbox_replace(_transaction_key(d.shop, str(t.id)), "shopify-transaction",
                                   {**kept, "unmatched": free}, now)
        elif note is None:
            _, used = _redo_failed(tx, ours, free, own, ref, now)
        kept_beyond = tx.store.inbox_get(_beyond_key(d.shop, refund)) if refund else None
        if note is None and kept_beyond is not None:  # its refund's money, now more of it
            _settle_beyond(ctx, tx, d, ours, refund, {
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
        kept = tx.store.inbox_keep(_failed_key(d.shop, str(t.id)),
                                   "shopify-failed-transaction", {"by": d.event_id},
                                   now)  # once, owed again or not
        if MoneyStore(tx.store.sql).by_key(key) is not None or kept.get("by") != d.event_id:
            return _answer(tx, ours, f"transaction {t.id}'s failure was recorded already")
        amount = minor(t.amount, ours.currency, "amount")
        refund = (tx.store.inbox_get(_pending_key(d.shop, str(t.id))) or {}).get("refund")
        why = (f"shopify refund {refund or '(not received)'} failed at the gateway "
               f"(transaction {t.id}: {t.status}): the buyer is not paid back; refund again in "
               "Shopify's admin")
        ours = tx.store.get_order(ours.id, lock=True)
        freed = _unmark_failed(tx, d, ours, refund, now)  # the buyer was not paid back
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


def _failed_before(tx: Tx, d: ShopifyDelivery, refund: shopify.ShopifyRefund, ours: Order,
                   now: datetime) -> str | None:
    """The refund's transactions whose failure came before it (owed again in full by the
    order, `refund-again:shopify:<id>`, its refund unknown then): the part of each that paid
    units of refunds of ours (a case's) is moved to them (service/failed_in_admin.py). What
    was moved, in words; None if nothing."""
    given = _given_back(tx, d, refund, ours)
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


def _redo_failed(tx: Tx, ours: Order, free: int, own: int, ref: str, now: datetime
                 ) -> tuple[list[str], int]:
    """The money of a booking no refund of ours took by its units (`free`, the order's `own`
    goods first) redoes the order's refunds owed again after a failure, first
    (service/owed_again.py): (their keys settled, what of the money beyond the goods they
    took — no refund of ours made as an amount may use it again)."""
    took, settled = owed_again.redo(tx, ours, free, ref, now) if free > 0 else (0, [])
    return settled, max(took - own, 0)


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


def _settled_now(tx: Tx, d: ShopifyDelivery, refund: shopify.ShopifyRefund, ours: Order,
                 now: datetime) -> tuple[int, int, list[str], list[str], int, int]:
    """(money, goods, pending, booked earlier, counted, deferred) a refund seen for the first
    time books
    now: each succeeded transaction not booked yet (money and its goods), each one booked
    already by its settlement (its goods only, less those it counted by amount: `counted`,
    which a refund of ours naming its units takes — approved after that settlement, it could
    not before); a pending one keeps its goods for its settlement. `deferred`: the money those
    booked earlier matched to nothing yet (a refund of ours waited: this refund says whose)."""
    money = goods = counted = deferred = 0
    waiting: list[str] = []
    earlier: list[str] = []
    for key, t, amount, share in shopify.refund_shares(refund, ours.currency):
        prior = tx.store.inbox_get(_transaction_key(d.shop, key))
        if prior is not None:  # settled first: order_transactions/create booked its money
            goods += max(share - int(prior.get("goods", 0)), 0)  # and counted goods by amount
            counted += min(int(prior.get("goods", 0)), share)
            earlier.append(key)
            if prior.get("unmatched"):  # matched now, once
                deferred += int(prior["unmatched"])
                tx.store.inbox_replace(_transaction_key(d.shop, key), "shopify-transaction",
                                       {**prior, "unmatched": 0}, now)
        elif t.status == shopify.SETTLED:
            tx.store.inbox_put(_transaction_key(d.shop, key), "shopify-transaction", {
                "action": "refunded", "target": ours.id, "by": d.event_id,
                "refund": refund.id}, now)
            money, goods = money + amount, goods + share
        else:
            tx.store.inbox_keep(_pending_key(d.shop, key), "shopify-pending-refund", {
                "target": ours.id, "refund": refund.id, "goods": share}, now)
            waiting.append(f"{t.amount} {t.status}")
    return money, goods, waiting, earlier, counted, deferred


def _given_back(tx: Tx, d: ShopifyDelivery, refund: shopify.ShopifyRefund, ours: Order,
                counted: int = 0) -> admin_refunds.GivenBack | None:
    """The refund's line items as units of our lines (by the line item ids kept when the order
    was placed; None for an order placed before they were kept), its transactions still
    pending, and the goods of it the order `counted` already by amount."""
    kept = tx.store.inbox_get(lines_key(d.shop, refund.order_id))
    if kept is None:
        return None
    numbers = kept.get("lines", {})
    units = tuple((tuple(numbers.get(str(line.line_item_id), ())), line.quantity,
                   minor(line.subtotal, ours.currency, f"refund_line_items[{i}].subtotal"))
                  for i, line in enumerate(refund.refund_line_items))
    shares = shopify.refund_shares(refund, ours.currency)
    waiting = tuple(key for key, t, _, _ in shares if t.status == shopify.PENDING
                    and tx.store.inbox_get(_transaction_key(d.shop, key)) is None)
    paying = tuple(key for key, t, _, _ in shares if t.status == shopify.SETTLED)
    return admin_refunds.GivenBack(units, waiting, counted=counted, paying=paying)


def _note_units(ctx: Context, tx: Tx, d: ShopifyDelivery, refund: shopify.ShopifyRefund,
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
    back if all of its transactions fail (`_unmark_failed`)."""
    given = _given_back(tx, d, refund, ours, by_amount)
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
        tx.store.inbox_put(_marked_key(d.shop, refund.id), "shopify-marked-units", {
            "target": ours.id, "lines": {str(no): n for no, n in marked.items()},
            "transactions": list(given.waiting)}, now)
    return settled, twice


def _unmark_failed(tx: Tx, d: ShopifyDelivery, ours: Order, refund: Any, now: datetime
                   ) -> dict[int, int]:
    """The units the refund `refund` marked refunded as the order's own while all of its money
    was pending (`_note_units`), taken back once every one of its transactions failed: Shopify
    keeps a refund's `refund_line_items` whatever its transactions do (the Refund "doesn't
    guarantee that the money has been returned": its transactions' status says), so nothing
    Shopify sends takes them back — a redo naming the tin again would mark it a second time.
    A transaction of it that succeeded keeps them (part of it was paid). What was taken back."""
    kept = tx.store.inbox_get(_marked_key(d.shop, refund)) if refund else None
    if not kept or not kept.get("lines") or any(
            tx.store.inbox_get(_transaction_key(d.shop, key)) is not None
            or tx.store.inbox_get(_failed_key(d.shop, key)) is None
            for key in kept.get("transactions", [])):
        return {}  # none marked, or part of its money paid or still pending
    tx.store.inbox_replace(_marked_key(d.shop, refund), "shopify-marked-units",
                           {**kept, "lines": {}, "taken_back": kept["lines"]}, now)
    return admin_refunds.unmark_given_back(
        tx, ours.id, {int(no): int(n) for no, n in kept["lines"].items()})


def _beyond_goods(tx: Tx, d: ShopifyDelivery, refund: shopify.ShopifyRefund, ours: Order
                  ) -> dict[str, Any]:
    """What of the refund's money may settle refunds of ours that name no units (goodwill,
    made in Shopify's admin as an amount): its `refund_discrepancy` adjustments, within the
    money in so far beyond its goods (its transactions settled now or booked before it came);
    `used`: what settled such refunds already."""
    shares = [(amount, share) for key, t, amount, share in
              shopify.refund_shares(refund, ours.currency)
              if t.status == shopify.SETTLED
              or tx.store.inbox_get(_transaction_key(d.shop, key)) is not None]
    return {"target": ours.id, "beyond": shopify.beyond_goods_refund(refund, ours.currency),
            "money": sum(amount for amount, _ in shares),
            "goods": sum(share for _, share in shares), "used": 0}


def _settle_beyond(ctx: Context, tx: Tx, d: ShopifyDelivery, ours: Order, refund_id: Any,
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
        tx.store.inbox_replace(_beyond_key(d.shop, refund_id), "shopify-beyond-goods",
                               {**beyond, "used": used}, now)
    return settled


def _goods_by_amount(tx: Tx, ours: Order, money: int) -> int:
    """The goods a settled refund transaction whose refund (refunds/create) has not arrived
    gives back, counted by its amount: only what passes what Shopify holds beyond the goods
    (shipping, tax), so never more than the refund's own goods — whose units are unknown. Its
    refund, if it comes, counts the rest of its goods (`_settled_now`); if it never comes the
    order still shows the money gone, and is not refunded twice nor listed as owed."""
    left = ours.paid - ours.refunded
    beyond = max(held(tx, ours.id) - left, 0)
    return min(left, max(money - beyond, 0))


def _nothing_moved(refund: shopify.ShopifyRefund, waiting: list[str], earlier: list[str]
                   ) -> str:
    if earlier and not waiting:
        return (f"its money was booked already (transactions {', '.join(earlier)}, from "
                "order_transactions/create); no goods to refund")
    if waiting:
        return (f"no money moved yet (transactions {', '.join(waiting)}): booked when Shopify "
                "says it succeeded (order_transactions/create)")
    failures = shopify.failed(refund)
    return (f"no money moved (transactions {', '.join(failures)}): not booked" if failures
            else "no money given back (no refund transaction): recorded")


def _book(ctx: Context, tx: Tx, d: ShopifyDelivery, ours: Order, money: int, goods: int,
          ref: str, reason: str, field: str, given: admin_refunds.GivenBack | None,
          now: datetime, earlier: int = 0) -> tuple[str | None, int, int]:
    """The ledger books the money given back, the order its goods' part within what is left:
    (None when booked, else why not; the money no refund of ours took by its units — with
    `earlier`, booked before it and matched to nothing yet — and the order's own goods of it,
    for `_redo_failed`). Never more than the ledger shows Shopify took and has not
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


def _answer(tx: Tx, ours: Order, note: str | None) -> Applied:
    return Applied(ours.id, note is None, {"order": order_body(tx, ours.id)}, note)


def _transaction_key(shop: str, key: str) -> str:
    return f"shopify:{shop}:transaction:{key}"


def _pending_key(shop: str, key: str) -> str:
    return f"shopify:{shop}:pending-refund:{key}"


def _beyond_key(shop: str, refund_id: Any) -> str:
    return f"shopify:{shop}:beyond-goods:{refund_id}"


def _failed_key(shop: str, key: str) -> str:
    return f"shopify:{shop}:failed-transaction:{key}"


def _marked_key(shop: str, refund_id: Any) -> str:
    return f"shopify:{shop}:marked-units:{refund_id}"
