"""Shopify order webhooks applied once, through the same service functions as the Python API.

Each delivery is logged under `shopify:<X-Shopify-Webhook-Id>` (a repeat replays the stored
answer). The Shopify order is known by the idempotency key of its placement,
`shopify:<shop>:order:<id>`, so the same order placed twice (a second webhook id for one
order) stays one order. What each topic does:

| topic | does |
|---|---|
| orders/create | place the order (stock hold, risk decision); paid at checkout → also `pay` |
| orders/paid | `pay` (placing the order first if its orders/create has not arrived yet) |
| orders/cancelled | `cancel` before shipping; after shipping: recorded only (open a case) |
| orders/updated | a cancellation or payment we missed is applied; anything else recorded |
| refunds/create | the ledger books the money given back (its successful refund transactions:
goods, shipping, tax); the order `refund`s its goods' part (line subtotals, at most that
money) within what is left; once per Shopify refund id, whatever webhook delivers it |

A cancellation (orders/cancelled, or any order body with `cancelled_at`) of an order not placed
here yet is remembered (`shopify:<shop>:cancelled:<id>`), in turn with the order's placement, so
that no later topic places it. An orders/paid carrying `cancelled_at` books the payment
first (`pay`), then cancels. Cancelling an order that holds Shopify's payment books Shopify's
refund of it when the body says Shopify refunded it all (financial_status refunded / voided)
and marks the cancellation's refund settled, so it is not sent again through our own gateway;
a later refunds/create for it books nothing. A cancellation whose refund the admin left for
later (paid / partially_refunded) refunds nothing: the money stays with Shopify
(`refund_later`), and each refunds/create then books its refund of the cancelled order.

Bad data (unknown sku, another currency, no address, no customer) is an `InvalidInput` that
names the Shopify field, and nothing is written: Shopify retries, and a retry after the sku was
stocked succeeds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from integrations.db import records
from integrations.ingest import shopify
from integrations.ingest.events import Inbound
from integrations.ingest.once import Applied, Outcome, once
from integrations.service import orders
from integrations.service.context import Context, Tx
from integrations.service.inputs import PlaceOrder, parse
from integrations.service.views import OrderView
from statemachine import ids
from statemachine.errors import InvalidInput, InvalidTransition, NotFound
from statemachine.order import takes_payment
from statemachine.order_aggregate import Order, OrderState

ACTOR = "shopify"


class ShopifyDelivery(Inbound):
    """One webhook delivery as logged (the digest covers topic, shop and the whole body)."""

    topic: str
    shop: str
    payload: dict[str, Any]


def shopify_webhook(ctx: Context, topic: str, webhook_id: str, shop: str,
                    payload: dict[str, Any]) -> Outcome:
    """Apply one verified Shopify webhook (see the table above)."""
    if topic not in shopify.TOPICS:
        return Outcome(200, {"applied": False, "duplicate": False,
                             "note": f"topic {topic} is not one orderpilot acts on"})
    delivery = ShopifyDelivery(event_id=webhook_id, topic=topic, shop=shop, payload=payload)
    return _TOPICS[topic](ctx, delivery)


def order_key(shop: str, shopify_id: int) -> str:
    return f"shopify:{shop}:order:{shopify_id}"


def _created(ctx: Context, d: ShopifyDelivery) -> Outcome:
    order = parse(shopify.ShopifyOrder, d.payload)

    def apply(tx: Tx, placed: tuple[int | None, bool]) -> Applied:
        number, new = placed
        if order.cancelled_at:  # a resend of it, taken after the cancellation
            return _cancel_or_remember(ctx, tx, d.shop, order, d)
        if number is None:
            return Applied(None, False, {}, "cancelled in Shopify first: not placed")
        note, applied = (None, True) if new else (f"already placed as {ids.ORDER(number)}", False)
        if order.financial_status == "paid":  # paid at checkout
            why_not = _pay(ctx, tx, tx.store.get_order(number), order, d)
            applied = applied or why_not is None
            note = why_not if new else note
        return Applied(number, applied, {"order": _view(tx, number)}, note)

    return once(ctx, "shopify", "orders.create", d, apply,
                lambda key: _place(ctx, d.shop, order), status=200)


def _paid(ctx: Context, d: ShopifyDelivery) -> Outcome:
    order = parse(shopify.ShopifyOrder, d.payload)

    def apply(tx: Tx, placed: tuple[int | None, bool]) -> Applied:
        number = placed[0]
        if order.cancelled_at:  # Shopify took the money, then cancelled and refunded it
            return _cancel_or_remember(ctx, tx, d.shop, order, d, paid=True)
        if number is None:
            return Applied(None, False, {}, "cancelled in Shopify: payment not applied")
        note = _pay(ctx, tx, tx.store.get_order(number), order, d)
        return Applied(number, note is None, {"order": _view(tx, number)}, note)

    return once(ctx, "shopify", "orders.paid", d, apply, lambda key: _place(ctx, d.shop, order))


def _cancelled(ctx: Context, d: ShopifyDelivery) -> Outcome:
    order = parse(shopify.ShopifyOrder, d.payload)
    return once(ctx, "shopify", "orders.cancelled", d,
                lambda tx, _: _cancel_or_remember(ctx, tx, d.shop, order, d))


def _updated(ctx: Context, d: ShopifyDelivery) -> Outcome:
    order = parse(shopify.ShopifyOrder, d.payload)

    def apply(tx: Tx, _: Any) -> Applied:
        if order.cancelled_at:  # remembered if not placed yet, as orders/cancelled does
            return _cancel_or_remember(ctx, tx, d.shop, order, d)
        number = _lookup(tx, d.shop, order.id)
        if number is None:
            return Applied(None, False, {}, "not placed here (orders/create places it)")
        ours = tx.store.get_order(number)
        if order.financial_status == "paid" and takes_payment(ours):
            note = _pay(ctx, tx, ours, order, d)
        else:
            note = "nothing orderpilot acts on changed (address and line edits are not applied)"
            return Applied(number, False, {"order": _view(tx, number)}, note)
        return Applied(number, note is None, {"order": _view(tx, number)}, note)

    return once(ctx, "shopify", "orders.updated", d, apply)


def _refunded(ctx: Context, d: ShopifyDelivery) -> Outcome:
    refund = parse(shopify.ShopifyRefund, d.payload)

    def apply(tx: Tx, _: Any) -> Applied:
        number = _lookup(tx, d.shop, refund.order_id)
        if number is None:
            raise NotFound("order", f"shopify {refund.order_id}")
        ours = tx.store.get_order(number)
        currency = shopify.refund_currency(refund) or ours.currency
        if currency != ours.currency:
            raise InvalidInput({"transactions[0].currency": f"order {ids.ORDER(number)} is in "
                                                            f"{ours.currency} (got {currency})"})
        note = _refund_not_booked(ctx, tx, d, refund, ours)
        if note is None:
            _book_refund(ctx, tx, d, refund, ours)
        return Applied(number, note is None, {"order": _view(tx, number)}, note)

    return once(ctx, "shopify", "refunds.create", d, apply)


def _refund_not_booked(ctx: Context, tx: Tx, d: ShopifyDelivery, refund: shopify.ShopifyRefund,
                       ours: Order) -> str | None:
    """Why this refund books nothing (None: book it). Booked once per Shopify refund id,
    whatever webhook delivers it; only money that moved (successful transactions) is booked;
    never more than the ledger shows Shopify kept of this order."""
    key = f"shopify:{d.shop}:refund:{refund.id}"
    kept = tx.store.inbox_keep(key, "shopify-refund", {"action": "refunded",
                                                       "target": ours.id, "by": d.event_id},
                               ctx.clock.now())
    if kept.get("by") != d.event_id:
        return f"refund {refund.id} was handled already (webhook {kept.get('by')})"
    money = shopify.money_refunded(refund, ours.currency)
    if money == 0:
        waiting = shopify.unsettled(refund)
        return (f"no money moved yet (transactions {', '.join(waiting)}): not booked"
                if waiting else "no money given back (no refund transaction): recorded")
    held = _held(tx, ours.id)
    if money > held:
        if ours.state == OrderState.CANCELLED and held == 0:
            return "refunded when Shopify cancelled the order: recorded already"
        raise InvalidInput({"transactions": f"refunds {money} but the ledger holds only {held} "
                                            f"of {ids.ORDER(ours.id)}"})
    return None


def _book_refund(ctx: Context, tx: Tx, d: ShopifyDelivery, refund: shopify.ShopifyRefund,
                 ours: Order) -> None:
    """The ledger books the money given back; the order its goods' part (line subtotals,
    never more than the money), within what is left to refund."""
    money = shopify.money_refunded(refund, ours.currency)
    goods = min(shopify.goods_refund(refund, ours.currency), money)
    left = ours.paid - ours.refunded
    if goods > left:
        raise InvalidInput({"refund_line_items": f"refunds {goods} but only {left} of "
                                                 f"{ids.ORDER(ours.id)} is left to refund"})
    reason = f"shopify refund {refund.id}" + (f": {refund.note}" if refund.note else "")
    if goods:
        orders.fire(ctx, tx, ours, "refund", ACTOR, {"amount": goods, "reason": reason})
    _payment_record(ctx, tx, ours.id, "refund", money, ours.currency, f"shopify:{refund.id}",
                    d, reason if goods == money else f"{reason} (goods {goods} of {money})")


def _held(tx: Tx, number: int) -> int:
    """What the ledger shows Shopify kept of this order: captures less refunds."""
    return sum(r.amount if r.kind == "capture" else -r.amount
               for r in records.payments_of(tx.connection, number)
               if r.kind in ("capture", "refund"))


_TOPICS: dict[str, Callable[[Context, ShopifyDelivery], Outcome]] = {
    "orders/create": _created, "orders/paid": _paid, "orders/cancelled": _cancelled,
    "orders/updated": _updated, "refunds/create": _refunded}


# --- the moves ---------------------------------------------------------------------------------


def _place(ctx: Context, shop: str, order: shopify.ShopifyOrder) -> tuple[int | None, bool]:
    """Place the Shopify order once (its own transaction); (number, placed just now)."""
    key = order_key(shop, order.id)
    with ctx.tx(readonly=True) as tx:
        if tx.store.inbox_get(_cancelled_key(shop, order.id)) is not None:
            return None, False
        prior = tx.store.inbox_get(key)
    if prior is not None:
        return int(prior["target"]), False
    if order.cancelled_at:
        return None, False
    body = shopify.place_request(order, ctx.settings.shopify.currency or ctx.settings.currency)

    def not_cancelled(tx: Tx) -> None:
        """Checked again in the placing transaction, in turn with orders/cancelled: read
        before it only, a cancellation applied meanwhile (it found no order yet) was missed
        and the cancelled order placed, paid at checkout, and shipped."""
        _one_at_a_time(tx, shop, order.id)
        if tx.store.inbox_get(_cancelled_key(shop, order.id)) is not None:
            raise _CancelledFirst

    try:
        request = parse(PlaceOrder, {**body, "idempotency_key": key})
        return orders.place(ctx, request, ACTOR, first=not_cancelled).id, True
    except _CancelledFirst:
        return None, False
    except InvalidInput as error:
        raise InvalidInput({_shopify_field(k, order): v for k, v in error.problems.items()}) \
            from None


class _CancelledFirst(Exception):  # noqa: N818 - a signal inside this module, never raised out
    """orders/cancelled was applied before the order could be placed: place nothing."""


def _one_at_a_time(tx: Tx, shop: str, shopify_id: int) -> None:
    """Placing a Shopify order and applying its cancellation take turns (before any row lock)."""
    tx.store.take_turn(f"shopify:{shop}:{shopify_id}")


def _pay(ctx: Context, tx: Tx, ours: Order, order: shopify.ShopifyOrder,
         d: ShopifyDelivery) -> str | None:
    """Pay our order for the goods; None when paid now, else why not."""
    if order.currency != ours.currency:
        raise InvalidInput({"currency": f"order {ours.public_id} is in {ours.currency} "
                                        f"(got {order.currency})"})
    if not takes_payment(ours):  # waiting for a risk decision, it keeps the money
        return "already paid" if ours.paid else f"order is {ours.state}: payment not applied"
    total = shopify.minor(order.total_price, order.currency, "total_price")
    orders.fire(ctx, tx, ours, "pay", ACTOR, {"amount": ours.total,
                                              "payment_ref": f"shopify:{order.id}"})
    _payment_record(ctx, tx, ours.id, "capture", total, ours.currency, f"shopify:{order.id}", d,
                    f"goods {ours.total}; Shopify total with shipping and tax {total}")
    return None


def _cancel_or_remember(ctx: Context, tx: Tx, shop: str, order: shopify.ShopifyOrder,
                        d: ShopifyDelivery, paid: bool = False) -> Applied:
    """Apply a Shopify cancellation: cancel our order, or remember it when the order is not
    placed here yet, so that a later orders/create / orders/paid places nothing. In turn with
    the order's placement: one of them commits first, the other sees it. `paid`: the body is
    an orders/paid (Shopify took the money before it cancelled): the payment is booked first,
    so the ledger shows it come and go back."""
    _one_at_a_time(tx, shop, order.id)
    number = _lookup(tx, shop, order.id)
    if number is None:
        tx.store.inbox_keep(_cancelled_key(shop, order.id), "shopify-cancelled",
                            {"action": "cancelled", "target": 0}, ctx.clock.now())
        return Applied(None, False, {}, "not placed here; a late orders/create is ignored")
    ours = tx.store.get_order(number)
    if ours.state == OrderState.CANCELLED:
        return Applied(number, False, {"order": _view(tx, number)}, "already cancelled")
    if paid and takes_payment(ours):
        _pay(ctx, tx, ours, order, d)
        ours = tx.store.get_order(number)
    note = _cancel(ctx, tx, ours, order, d)
    return Applied(number, note is None, {"order": _view(tx, number)}, note)


REFUNDED_ON_CANCEL = ("refunded", "voided")  # Shopify's financial_status after a full refund


def _cancel(ctx: Context, tx: Tx, ours: Order, order: shopify.ShopifyOrder,
            d: ShopifyDelivery) -> str | None:
    """Cancel our order. What Shopify was paid for it is refunded with it only when Shopify
    says so (financial_status refunded / voided); otherwise ("refund later": paid,
    partially_refunded) Shopify keeps it and each refunds/create books a refund."""
    reason = f"cancelled in Shopify ({order.cancel_reason or 'no reason'})"
    owed = ours.paid - ours.refunded  # read before: the cancel counts it refunded
    later = order.financial_status not in REFUNDED_ON_CANCEL
    try:
        orders.fire(ctx, tx, ours, "cancel", ACTOR,
                    {"reason": reason} | ({"refund_later": True} if later and owed else {}))
    except InvalidTransition as error:
        return f"{error}: open an after-sales case instead"
    if owed > 0 and not later:
        _refunded_by_shopify(ctx, tx, ours, order, d, reason)
    return None


def _refunded_by_shopify(ctx: Context, tx: Tx, ours: Order, order: shopify.ShopifyOrder,
                         d: ShopifyDelivery, reason: str) -> None:
    """Book Shopify's refund of what is left of its payment (shipping and tax included, as
    the capture was booked), and mark the cancellation's refund settled: it is not sent
    again through our own gateway (`settlement.cancellation`)."""
    kept = _held(tx, ours.id)
    if kept > 0:
        _payment_record(ctx, tx, ours.id, "refund", kept, ours.currency,
                        f"shopify:{order.id}", d, f"refunded by Shopify: {reason}")
    tx.store.inbox_keep(f"cancel-refund:{ours.public_id}", "shopify-refunded",
                        {"action": "refunded", "target": ours.id}, ctx.clock.now())


def _payment_record(ctx: Context, tx: Tx, number: int, kind: str, amount: int, currency: str,
                    ref: str, d: ShopifyDelivery, reason: str) -> None:
    records.payment_add(tx.connection, {
        "order_id": number, "kind": kind, "amount": amount, "currency": currency,
        "provider_ref": ref, "case_id": None, "event_key": f"shopify:{d.event_id}",
        "reason": reason[:500], "at": ctx.clock.now()})


def _lookup(tx: Tx, shop: str, shopify_id: int) -> int | None:
    prior = tx.store.inbox_get(order_key(shop, shopify_id))
    return None if prior is None else int(prior["target"])


def _cancelled_key(shop: str, shopify_id: int) -> str:
    return f"shopify:{shop}:cancelled:{shopify_id}"


def _view(tx: Tx, number: int) -> dict[str, Any]:
    return OrderView.of(tx.store.get_order(number)).model_dump(mode="json")


FIELDS = {"buyer_id": "customer.id", "ip": "browser_ip", "shipping_address.street":
          "shipping_address.address1", "shipping_address.postal_code": "shipping_address.zip",
          "shipping_address.country": "shipping_address.country_code"}


def _shopify_field(ours: str, order: shopify.ShopifyOrder) -> str:
    """Our field name in a placement problem → the Shopify field the merchant can fix."""
    match = re.fullmatch(r"lines\[(\d+)\](.*)", ours)
    if match:
        line = shopify.line_origins(order)[int(match.group(1))]
        return f"line_items[{line}]{match.group(2)}"
    return FIELDS.get(ours, ours)
