"""What the Shopify webhook handlers share: the logged delivery, how a Shopify order is found
here, the turn each Shopify order's deliveries take, and the ledger (payment_records) rows
Shopify's money makes. storefront.py applies the order topics, shopify_refunds.py the money
given back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.db import records
from integrations.ingest.events import Inbound
from integrations.service.context import Tx

ACTOR = "shopify"


class ShopifyDelivery(Inbound):
    """One webhook delivery as logged (the digest covers topic, shop and the whole body)."""

    topic: str
    shop: str
    payload: dict[str, Any]


def order_key(shop: str, shopify_id: int) -> str:
    return f"shopify:{shop}:order:{shopify_id}"


def lines_key(shop: str, shopify_id: int) -> str:
    """Where the Shopify order's line item ids → our line numbers are kept at placement."""
    return f"shopify:{shop}:lines:{shopify_id}"


def lookup(tx: Tx, shop: str, shopify_id: int) -> int | None:
    """Our order number for a Shopify order, if it was placed here."""
    prior = tx.store.inbox_get(order_key(shop, shopify_id))
    return None if prior is None else int(prior["target"])


def one_at_a_time(tx: Tx, shop: str, shopify_id: int) -> None:
    """A Shopify order's placement, cancellation and money take turns (before any row lock)."""
    tx.store.take_turn(f"shopify:{shop}:{shopify_id}")


TAKEN = ("capture", "late_capture")  # late money: taken for an order that could not take it


def taken(tx: Tx, number: int) -> int:
    """What the ledger shows Shopify took for this order and has not refunded: captures (late
    money too) less refunds — the most a refund of it may give back. A chargeback does not
    lower it: Shopify lets the merchant refund money the bank already took (the buyer is paid
    twice: service/paid_twice.py)."""
    return sum(r.amount if r.kind in TAKEN else -r.amount
               for r in records.payments_of(tx.connection, number)
               if r.kind in (*TAKEN, "refund"))


def held(tx: Tx, number: int) -> int:
    """What the ledger shows Shopify still holds of this order: what it took less refunds and
    less the chargebacks the bank took for good (lost or conceded: the ledger's `chargeback`
    rows, which the order counts refunded — service/disputes.py). Only a chargeback moves
    money: an inquiry books no row (closed, or escalated into a chargeback that books its own),
    and neither does a chargeback won or still open (the order has not counted it either)."""
    return taken(tx, number) - sum(r.amount for r in records.payments_of(tx.connection, number)
                                   if r.kind == "chargeback")


def payment_record(tx: Tx, number: int, kind: str, amount: int, currency: str, ref: str,
                   d: ShopifyDelivery, reason: str, now: datetime) -> None:
    records.payment_add(tx.connection, {
        "order_id": number, "kind": kind, "amount": amount, "currency": currency,
        "provider_ref": ref, "case_id": None, "event_key": f"shopify:{d.event_id}",
        "reason": reason[:500], "at": now})
