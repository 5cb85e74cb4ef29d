"""Shopify order webhooks applied once, through the same service functions as the Python API.

Each delivery is logged under `shopify:<X-Shopify-Webhook-Id>` (a repeat replays the stored
answer). The Shopify order is known by the idempotency key of its placement,
`shopify:<shop>:order:<id>`, so the same order placed twice (a second webhook id for one
order) stays one order. What each topic does:

| topic | does |
|---|---|
| orders/create | place the order (stock hold, risk decision); paid at checkout → also `pay` |
| orders/paid | `pay` (placing the order first if its orders/create has not arrived yet); for an
order that can no longer take it (expired, rejected, cancelled here): late money — the ledger's
`late_capture`, owed back to the buyer until a refund books it (or, under
ORDERPILOT_LATE_PAYMENTS=revive, an expired order revived and paid) |
| orders/cancelled | `cancel` before shipping; after shipping: recorded only (open a case) |
| orders/updated | a cancellation or payment we missed (late money too) is applied; anything
else recorded |
| refunds/create | the ledger books the money given back (its successful refund transactions:
goods, shipping, tax); the order `refund`s its goods' part (line subtotals, at most that
money) within what is left; once per Shopify refund id, whatever webhook delivers it |
| order_transactions/create | a refund transaction that succeeded (one pending when its refund
arrived) is booked, once per Shopify transaction id: shopify_refunds.py |
| disputes/create, disputes/update | a Shopify Payments dispute opened (once per dispute
id), won, or lost / accepted (the chargeback booked): shopify_disputes.py |

A cancellation (orders/cancelled, or any order body with `cancelled_at`) of an order not placed
here yet is remembered (`shopify:<shop>:cancelled:<id>`), in turn with the order's placement, so
that no later topic places it. An orders/paid carrying `cancelled_at` books the payment
first (`pay`), then cancels. Cancelling an order that holds Shopify's payment books Shopify's
refund of it when the body says Shopify refunded it all (financial_status refunded / voided)
and marks the cancellation's refund settled, so it is not sent again through our own gateway,
with the refunds of ours waiting in Shopify's admin (a case's: that refund made them); a later
refunds/create for it books nothing. A cancellation whose refund the admin left for
later (paid / partially_refunded) refunds nothing: the money stays with Shopify
(`refund_later`), and each refunds/create then books its refund of the cancelled order.

Bad data (unknown sku, another currency, no address, no customer) is an `InvalidInput` that
names the Shopify field, and nothing is written: Shopify retries, and a retry after the sku was
stocked succeeds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from integrations.ingest import shopify, shopify_disputes, shopify_refunds
from integrations.ingest.once import Applied, Outcome, once, order_body
from integrations.ingest.shopify_common import (
    ACTOR,
    ShopifyDelivery,
    held,
    lines_key,
    lookup,
    one_at_a_time,
    order_key,
    payment_record,
)
from integrations.service import orders, owed_again
from integrations.service.buyer_ids import guest_buyer
from integrations.service.context import Context, Tx
from integrations.service.inputs import PlaceOrder, parse
from integrations.service.late_payments import is_late, take_late_money
from statemachine import ids
from statemachine.errors import InvalidInput, InvalidTransition
from statemachine.order import takes_payment
from statemachine.order_aggregate import Order, OrderState

__all__ = ["order_key", "shopify_webhook"]


def shopify_webhook(ctx: Context, topic: str, webhook_id: str, shop: str,
                    payload: dict[str, Any]) -> Outcome:
    """Apply one verified Shopify webhook (see the table above)."""
    if topic not in shopify.TOPICS:
        return Outcome(200, {"applied": False, "duplicate": False,
                             "note": f"topic {topic} is not one orderpilot acts on"})
    delivery = ShopifyDelivery(event_id=webhook_id, topic=topic, shop=shop, payload=payload)
    return _TOPICS[topic](ctx, delivery)


def _created(ctx: Context, d: ShopifyDelivery) -> Outcome:
    order = parse(shopify.ShopifyOrder, d.payload)

    def apply(tx: Tx, placed: tuple[int | None, bool], now: datetime) -> Applied:
        number, new = placed
        if order.cancelled_at:  # a resend of it, taken after the cancellation
            return _cancel_or_remember(ctx, tx, d.shop, order, d, now)
        if number is None:
            return Applied(None, False, {}, "cancelled in Shopify first: not placed")
        note, applied = (None, True) if new else (f"already placed as {ids.ORDER(number)}", False)
        if order.financial_status == "paid":  # paid at checkout
            paid, why = _pay(ctx, tx, tx.store.get_order(number), order, d, now)
            applied = applied or paid
            note = why if new else note
        return Applied(number, applied, {"order": order_body(tx, number)}, note)

    return once(ctx, "shopify", "orders.create", d, apply,
                lambda key, now: _place(ctx, d.shop, order, now), status=200)


def _paid(ctx: Context, d: ShopifyDelivery) -> Outcome:
    order = parse(shopify.ShopifyOrder, d.payload)

    def apply(tx: Tx, placed: tuple[int | None, bool], now: datetime) -> Applied:
        number = placed[0]
        if order.cancelled_at:  # Shopify took the money, then cancelled and refunded it
            return _cancel_or_remember(ctx, tx, d.shop, order, d, now, paid=True)
        if number is None:
            return Applied(None, False, {}, "cancelled in Shopify: payment not applied")
        paid, note = _pay(ctx, tx, tx.store.get_order(number), order, d, now)
        return Applied(number, paid, {"order": order_body(tx, number)}, note)

    return once(ctx, "shopify", "orders.paid", d, apply,
                lambda key, now: _place(ctx, d.shop, order, now))


def _cancelled(ctx: Context, d: ShopifyDelivery) -> Outcome:
    order = parse(shopify.ShopifyOrder, d.payload)
    return once(ctx, "shopify", "orders.cancelled", d,
                lambda tx, _, now: _cancel_or_remember(ctx, tx, d.shop, order, d, now))


def _updated(ctx: Context, d: ShopifyDelivery) -> Outcome:
    order = parse(shopify.ShopifyOrder, d.payload)

    def apply(tx: Tx, _: Any, now: datetime) -> Applied:
        if order.cancelled_at:  # remembered if not placed yet, as orders/cancelled does
            return _cancel_or_remember(ctx, tx, d.shop, order, d, now)
        number = lookup(tx, d.shop, order.id)
        if number is None:
            return Applied(None, False, {}, "not placed here (orders/create places it)")
        ours = tx.store.get_order(number)
        if order.financial_status == "paid" and (
                takes_payment(ours) or is_late(ours, _payment_ref(order))):
            paid, note = _pay(ctx, tx, ours, order, d, now)
            return Applied(number, paid, {"order": order_body(tx, number)}, note)
        note = "nothing orderpilot acts on changed (address and line edits are not applied)"
        return Applied(number, False, {"order": order_body(tx, number)}, note)

    return once(ctx, "shopify", "orders.updated", d, apply)


_TOPICS: dict[str, Callable[[Context, ShopifyDelivery], Outcome]] = {
    "orders/create": _created, "orders/paid": _paid, "orders/cancelled": _cancelled,
    "orders/updated": _updated, "refunds/create": shopify_refunds.refunded,
    "order_transactions/create": shopify_refunds.transaction,
    "disputes/create": shopify_disputes.dispute_webhook,
    "disputes/update": shopify_disputes.dispute_webhook}


# --- the moves ---------------------------------------------------------------------------------


def _place(ctx: Context, shop: str, order: shopify.ShopifyOrder, now: datetime
           ) -> tuple[int | None, bool]:
    """Place the Shopify order once (its own transaction, at the delivery's `now`); (number,
    placed just now)."""
    key = order_key(shop, order.id)
    with ctx.tx(readonly=True) as tx:
        if tx.store.inbox_get(_cancelled_key(shop, order.id)) is not None:
            return None, False
        prior = tx.store.inbox_get(key)
        buyer = shopify.customer_buyer(order) or _guest(tx, order)
    if prior is not None:
        return int(prior["target"]), False
    if order.cancelled_at:
        return None, False
    body = shopify.place_request(order, ctx.settings.shopify.currency or ctx.settings.currency,
                                 buyer)

    def not_cancelled(tx: Tx) -> None:
        """Checked again in the placing transaction, in turn with orders/cancelled: read
        before it only, a cancellation applied meanwhile (it found no order yet) was missed
        and the cancelled order placed, paid at checkout, and shipped."""
        one_at_a_time(tx, shop, order.id)
        if tx.store.inbox_get(_cancelled_key(shop, order.id)) is not None:
            raise _CancelledFirst
        # which of our lines each Shopify line item became: its refunds name line items
        tx.store.inbox_keep(lines_key(shop, order.id), "shopify-lines",
                            {"target": 0, "lines": shopify.line_numbers(order)}, now)

    try:
        request = parse(PlaceOrder, {**body, "idempotency_key": key})
        # the buyer has paid Shopify already: a contradicting address is held, not refused
        return orders.place(ctx, request, ACTOR, now, first=not_cancelled,
                            contradictions="review").id, True
    except _CancelledFirst:
        return None, False
    except InvalidInput as error:
        raise InvalidInput({_shopify_field(k, order): v for k, v in error.problems.items()}) \
            from None


def _guest(tx: Tx, order: shopify.ShopifyOrder) -> str | None:
    """A guest checkout's buyer: its email keyed by the install (a guest known under the
    plain hash before keeps it); None without an email."""
    email = shopify.guest_email(order)
    return guest_buyer(tx, shopify.GUEST, email, legacy=shopify.legacy_guest_id(email)) \
        if email else None


class _CancelledFirst(Exception):  # noqa: N818 - a signal inside this module, never raised out
    """orders/cancelled was applied before the order could be placed: place nothing."""


def _pay(ctx: Context, tx: Tx, ours: Order, order: shopify.ShopifyOrder,
         d: ShopifyDelivery, now: datetime) -> tuple[bool, str | None]:
    """Pay our order for the goods: (booked, why not or what became of the money). Money the
    order cannot take (expired, rejected, cancelled here) is late money (late_payments.py:
    revived by policy, else owed back, to refund in Shopify), as the Stripe and Alipay
    webhooks book it; the ledger shows Shopify's whole charge either way."""
    if order.currency != ours.currency:
        raise InvalidInput({"currency": f"order {ours.public_id} is in {ours.currency} "
                                        f"(got {order.currency})"})
    ref = _payment_ref(order)
    total = shopify.minor(order.total_price, order.currency, "total_price")
    ours = tx.store.get_order(ours.id, lock=True)  # late money is recorded once, under it
    if is_late(ours, ref):
        late = take_late_money(ctx, tx, ours, ours.total, ref, ACTOR, given_back=total,
                               currency=order.currency, now=now)  # the order's: checked
        if late.new:
            payment_record(tx, ours.id, late.ledger_kind, total, ours.currency, ref, d,
                           late.note, now)
        return late.new, late.note
    if not takes_payment(ours):  # paid by it already (or kept while a person decides)
        return False, "already paid"
    orders.fire(ctx, tx, ours, "pay", ACTOR, {"amount": ours.total, "payment_ref": ref}, now=now)
    payment_record(tx, ours.id, "capture", total, ours.currency, ref, d,
                   f"goods {ours.total}; Shopify total with shipping and tax {total}", now)
    return True, None


def _payment_ref(order: shopify.ShopifyOrder) -> str:
    return f"shopify:{order.id}"


def _cancel_or_remember(ctx: Context, tx: Tx, shop: str, order: shopify.ShopifyOrder,
                        d: ShopifyDelivery, now: datetime, paid: bool = False) -> Applied:
    """Apply a Shopify cancellation: cancel our order, or remember it when the order is not
    placed here yet, so that a later orders/create / orders/paid places nothing. In turn with
    the order's placement: one of them commits first, the other sees it. `paid`: the body is
    an orders/paid (Shopify took the money before it cancelled): the payment is booked first,
    so the ledger shows it come and go back."""
    one_at_a_time(tx, shop, order.id)
    number = lookup(tx, shop, order.id)
    if number is None:
        tx.store.inbox_keep(_cancelled_key(shop, order.id), "shopify-cancelled",
                            {"action": "cancelled", "target": 0}, now)
        return Applied(None, False, {}, "not placed here; a late orders/create is ignored")
    ours = tx.store.get_order(number)
    if ours.state == OrderState.CANCELLED:
        return Applied(number, False, {"order": order_body(tx, number)}, "already cancelled")
    if paid and takes_payment(ours):
        _pay(ctx, tx, ours, order, d, now)
        ours = tx.store.get_order(number)
    note = _cancel(ctx, tx, ours, order, d, now)
    return Applied(number, note is None, {"order": order_body(tx, number)}, note)


REFUNDED_ON_CANCEL = ("refunded", "voided")  # Shopify's financial_status after a full refund


def _cancel(ctx: Context, tx: Tx, ours: Order, order: shopify.ShopifyOrder,
            d: ShopifyDelivery, now: datetime) -> str | None:
    """Cancel our order. What Shopify was paid for it is refunded with it only when Shopify
    says so (financial_status refunded / voided); otherwise ("refund later": paid,
    partially_refunded) Shopify keeps it and each refunds/create books a refund."""
    reason = f"cancelled in Shopify ({order.cancel_reason or 'no reason'})"
    owed = ours.paid - ours.refunded  # read before: the cancel counts it refunded
    later = order.financial_status not in REFUNDED_ON_CANCEL
    try:
        orders.fire(ctx, tx, ours, "cancel", ACTOR,
                    {"reason": reason, "refund_later": bool(later and owed)}, now=now)
    except InvalidTransition as error:
        return f"{error}: open an after-sales case instead"
    if owed > 0 and not later:
        _refunded_by_shopify(ctx, tx, ours, order, d, reason, now)
    return None


def _refunded_by_shopify(ctx: Context, tx: Tx, ours: Order, order: shopify.ShopifyOrder,
                         d: ShopifyDelivery, reason: str, now: datetime) -> None:
    """Book Shopify's refund of what is left of its payment (shipping and tax included, as
    the capture was booked), and mark the cancellation's refund settled: it is not sent
    again through our own gateway (`settlement.cancellation`)."""
    kept = held(tx, ours.id)
    if kept > 0:
        payment_record(tx, ours.id, "refund", kept, ours.currency, f"shopify:{order.id}", d,
                       f"refunded by Shopify: {reason}", now)
    tx.store.inbox_keep(f"cancel-refund:{ours.public_id}", "shopify-refunded",
                        {"action": "refunded", "target": ours.id}, now)
    # refunds of ours waiting in Shopify's admin (a case's) were part of that refund: the
    # cancel left them to settle into the order, and no refunds/create will (it books nothing);
    # the rest redoes a refund that failed
    owed_again.refunded_in_full(ctx, tx, ours, kept, f"shopify:{order.id}", now)


def _cancelled_key(shop: str, shopify_id: int) -> str:
    return f"shopify:{shop}:cancelled:{shopify_id}"


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
