"""Reading a Shopify refund (integrations/ingest/shopify_refunds.py takes its webhooks): what
of its money settles now, is pending or was booked before it by its transactions' own webhook;
the units it gives back, read as our lines through the line item ids kept at placement; its
money beyond the goods (an amount with no line items); and the inbox keys its transactions,
failures and marked units are kept under, once each.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.ingest import shopify
from integrations.ingest.shopify_common import ShopifyDelivery, held, lines_key
from integrations.service import admin_refunds
from integrations.service.context import Tx
from statemachine.currency import minor
from statemachine.order_aggregate import Order


def settled_now(tx: Tx, d: ShopifyDelivery, refund: shopify.ShopifyRefund, ours: Order,
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
        prior = tx.store.inbox_get(transaction_key(d.shop, key))
        if prior is not None:  # settled first: order_transactions/create booked its money
            goods += max(share - int(prior.get("goods", 0)), 0)  # and counted goods by amount
            counted += min(int(prior.get("goods", 0)), share)
            earlier.append(key)
            if prior.get("unmatched"):  # matched now, once
                deferred += int(prior["unmatched"])
                tx.store.inbox_replace(transaction_key(d.shop, key), "shopify-transaction",
                                       {**prior, "unmatched": 0}, now)
        elif t.status == shopify.SETTLED:
            tx.store.inbox_put(transaction_key(d.shop, key), "shopify-transaction", {
                "action": "refunded", "target": ours.id, "by": d.event_id,
                "refund": refund.id}, now)
            money, goods = money + amount, goods + share
        else:
            tx.store.inbox_keep(pending_key(d.shop, key), "shopify-pending-refund", {
                "target": ours.id, "refund": refund.id, "goods": share}, now)
            waiting.append(f"{t.amount} {t.status}")
    return money, goods, waiting, earlier, counted, deferred


def given_back(tx: Tx, d: ShopifyDelivery, refund: shopify.ShopifyRefund, ours: Order,
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
                    and tx.store.inbox_get(transaction_key(d.shop, key)) is None)
    paying = tuple(key for key, t, _, _ in shares if t.status == shopify.SETTLED)
    return admin_refunds.GivenBack(units, waiting, counted=counted, paying=paying)


def beyond_goods(tx: Tx, d: ShopifyDelivery, refund: shopify.ShopifyRefund, ours: Order
                 ) -> dict[str, Any]:
    """What of the refund's money may settle refunds of ours that name no units (goodwill,
    made in Shopify's admin as an amount): its `refund_discrepancy` adjustments, within the
    money in so far beyond its goods (its transactions settled now or booked before it came);
    `used`: what settled such refunds already."""
    shares = [(amount, share) for key, t, amount, share in
              shopify.refund_shares(refund, ours.currency)
              if t.status == shopify.SETTLED
              or tx.store.inbox_get(transaction_key(d.shop, key)) is not None]
    return {"target": ours.id, "beyond": shopify.beyond_goods_refund(refund, ours.currency),
            "money": sum(amount for amount, _ in shares),
            "goods": sum(share for _, share in shares), "used": 0}


def goods_by_amount(tx: Tx, ours: Order, money: int) -> int:
    """The goods a settled refund transaction whose refund (refunds/create) has not arrived
    gives back, counted by its amount: only what passes what Shopify holds beyond the goods
    (shipping, tax), so never more than the refund's own goods — whose units are unknown. Its
    refund, if it comes, counts the rest of its goods (`settled_now`); if it never comes the
    order still shows the money gone, and is not refunded twice nor listed as owed."""
    left = ours.paid - ours.refunded
    beyond = max(held(tx, ours.id) - left, 0)
    return min(left, max(money - beyond, 0))


def nothing_moved(refund: shopify.ShopifyRefund, waiting: list[str], earlier: list[str]
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


def transaction_key(shop: str, key: str) -> str:
    return f"shopify:{shop}:transaction:{key}"


def pending_key(shop: str, key: str) -> str:
    return f"shopify:{shop}:pending-refund:{key}"


def beyond_key(shop: str, refund_id: Any) -> str:
    return f"shopify:{shop}:beyond-goods:{refund_id}"


def failed_key(shop: str, key: str) -> str:
    return f"shopify:{shop}:failed-transaction:{key}"


def marked_key(shop: str, refund_id: Any) -> str:
    return f"shopify:{shop}:marked-units:{refund_id}"
