"""Shopify order webhooks → orderpilot commands: verification and mapping, no writes.

Verification: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body with the app's
secret (Shopify's documented scheme), compared in constant time before anything is parsed.

Mapping (what Shopify calls it → what orderpilot needs; a missing or unusable field is an
`InvalidInput` naming the Shopify field, e.g. `line_items[1].sku`):
- customer.id → buyer `shopify-<id>` (a guest: `shopify-guest-<HMAC of the email under the
  install's key>`, service/buyer_ids; a guest known under the plain hash before keeps it);
- customer.phone (else the order's `phone`) → the buyer's phone; shipping_address.phone is
  the recipient's (the order keeps and the risk rules count both);
- line_items → lines by sku at the price after the line's discounts (a line whose discounted
  total does not divide evenly by its quantity becomes two lines of the same sku, one cent
  apart, so the order total is exactly what the buyer paid for the goods);
- shipping_address → address (address1 + address2 = street, city, province, zip, country,
  phone, recipient); browser_ip (or client_details.browser_ip) → ip; email, customer_locale.
Money is converted to minor units by the currency's exponent (CNY 2, JPY 0, KWD 3); shipping
and taxes are not goods: they are recorded with the payment, not in the order total. A refund's
money is its refund `transactions` (goods, shipping and tax together), booked as each succeeds;
its goods are its `refund_line_items`. A settled refund transaction (order_transactions/create)
is known by its id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from statemachine.currency import minor, split_total
from statemachine.errors import InvalidInput

HMAC_HEADER = "x-shopify-hmac-sha256"
GUEST = "shopify-guest"  # a guest checkout's buyer ids: GUEST-<16 hex>
TOPICS = ("orders/create", "orders/paid", "orders/cancelled", "orders/updated",
          "refunds/create", "order_transactions/create", "disputes/create", "disputes/update")


def signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signature_problem(body: bytes, given: str | None, secret: str | None) -> str | None:
    if not secret:
        return "no Shopify webhook secret is configured (ORDERPILOT_SHOPIFY__WEBHOOK_SECRET)"
    if not given:
        return "missing X-Shopify-Hmac-Sha256 header"
    return None if hmac.compare_digest(signature(body, secret), given.strip()) \
        else "X-Shopify-Hmac-Sha256 does not match the body"


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Discount(_Loose):
    amount: str = "0"


class LineItem(_Loose):
    id: int
    sku: str | None = None
    quantity: int = Field(gt=0)
    price: str
    total_discount: str = "0"
    discount_allocations: list[Discount] = Field(default_factory=list)


class ShippingAddress(_Loose):
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province: str | None = None
    zip: str | None = None
    country_code: str | None = None
    phone: str | None = None
    name: str | None = None


class Customer(_Loose):
    id: int | None = None
    email: str | None = None
    phone: str | None = None


class ClientDetails(_Loose):
    browser_ip: str | None = None


class ShopifyOrder(_Loose):
    id: int
    name: str | None = None
    email: str | None = None
    currency: str
    total_price: str
    financial_status: str | None = None
    cancelled_at: str | None = None
    cancel_reason: str | None = None
    browser_ip: str | None = None
    phone: str | None = None  # the buyer's, given at checkout
    client_details: ClientDetails | None = None
    customer: Customer | None = None
    customer_locale: str | None = None
    shipping_address: ShippingAddress | None = None
    line_items: list[LineItem] = Field(min_length=1)


class RefundLine(_Loose):
    line_item_id: int
    quantity: int
    subtotal: str = "0"


class Transaction(_Loose):
    id: int | None = None
    kind: str
    status: str | None = None
    amount: str = "0"
    currency: str | None = None


class ShopifyTransaction(_Loose):
    """An order_transactions/create body (Admin REST Transaction): sent when a transaction is
    created or its status changes, for status success, failure or error only."""

    id: int
    order_id: int
    kind: str
    status: str | None = None
    amount: str = "0"
    currency: str | None = None


class Adjustment(_Loose):
    kind: str = ""  # shipping_refund, refund_discrepancy
    amount: str = "0"  # negative: given back


class ShopifyRefund(_Loose):
    id: int
    order_id: int
    note: str | None = None
    refund_line_items: list[RefundLine] = Field(default_factory=list)
    transactions: list[Transaction] = Field(default_factory=list)
    order_adjustments: list[Adjustment] = Field(default_factory=list)


def place_request(order: ShopifyOrder, shop_currency: str, buyer: str | None
                  ) -> dict[str, Any]:
    """The PlaceOrder body for a Shopify order (validated again by the placement itself);
    `buyer` as customer_buyer, else service/buyer_ids.guest_buyer, gave it."""
    problems: dict[str, str] = {}
    if order.currency != shop_currency:
        problems["currency"] = f"this shop books {shop_currency}; the order is in " \
                               f"{order.currency}"
    address = order.shipping_address
    if address is None or not address.address1 or not address.city:
        problems["shipping_address"] = "address1 and city are required to ship"
    if buyer is None:
        problems["customer"] = "a customer id or an email is required"
    for i, item in enumerate(order.line_items):
        if not (item.sku or "").strip():
            problems[f"line_items[{i}].sku"] = "empty: orderpilot stocks goods by sku"
    if problems:
        raise InvalidInput(problems)
    assert address is not None and buyer is not None
    street = " ".join(p for p in (address.address1, address.address2) if p)
    ip = order.browser_ip or (order.client_details.browser_ip if order.client_details else None)
    return {"buyer_id": buyer, "lines": _lines(order), "currency": order.currency,
            "shipping_address": {k: v for k, v in {
                "street": street, "city": address.city, "province": address.province,
                "postal_code": address.zip, "country": address.country_code or "CN",
                "phone": address.phone, "recipient": address.name}.items() if v},
            "phone": _buyer_phone(order),
            "ip": ip, "email": order.email or (order.customer.email if order.customer
                                               else None),
            "locale": order.customer_locale}


def goods_refund(refund: ShopifyRefund, currency: str) -> int:
    """What a refund gives back for goods (line subtotals); shipping refunds are not goods."""
    return sum(minor(line.subtotal, currency, f"refund_line_items[{i}].subtotal")
               for i, line in enumerate(refund.refund_line_items))


def beyond_goods_refund(refund: ShopifyRefund, currency: str) -> int:
    """What a refund gives back beyond its goods and shipping: its `refund_discrepancy`
    adjustments (an amount refunded with no line items — goodwill, compensation), negative
    when Shopify gave money back."""
    return sum(minor(a.amount[1:], currency, f"order_adjustments[{i}].amount")
               for i, a in enumerate(refund.order_adjustments)
               if a.kind == "refund_discrepancy" and a.amount.startswith("-"))


SETTLED, PENDING = "success", "pending"
FAILED = ("failure", "error")  # Shopify's transaction statuses for money that did not move


def refund_shares(refund: ShopifyRefund, currency: str
                  ) -> list[tuple[str, Transaction, int, int]]:
    """The refund's money transactions that succeeded or are still pending, each as (its key,
    the transaction, its amount, its share of the goods). Shopify documents the transactions
    as the record of money returned (goods, shipping, tax, adjustments); the goods
    (`refund_line_items`) are shared out over them in order, so a refund paid in two parts
    gives back its goods as its money settles, and never more goods than money. The key is
    Shopify's transaction id (the refund id and position when a body leaves it out)."""
    goods_left, shares = goods_refund(refund, currency), []
    for i, t in enumerate(refund.transactions):
        if t.kind != "refund" or t.status not in (SETTLED, PENDING):
            continue
        amount = minor(t.amount, currency, f"transactions[{i}].amount")
        share = min(amount, goods_left)
        goods_left -= share
        shares.append((str(t.id) if t.id is not None else f"{refund.id}.{i}", t, amount, share))
    return shares


def failed(refund: ShopifyRefund) -> list[str]:
    """The refund transactions that failed (failure, error), as text."""
    return [f"{t.amount} {t.status or 'no status'}" for t in refund.transactions
            if t.kind == "refund" and t.status not in (SETTLED, PENDING)]


def refund_currency(refund: ShopifyRefund) -> str | None:
    return next((t.currency for t in refund.transactions if t.currency), None)


def _buyer_phone(order: ShopifyOrder) -> str | None:
    """The buyer's own number: the customer's, else the one given at checkout. Never the
    shipping address's: that is the recipient's, counted by the risk rules as such (a ring
    ships to one collecting phone behind buyers who each give their own)."""
    return (order.customer.phone if order.customer else None) or order.phone


def customer_buyer(order: ShopifyOrder) -> str | None:
    """The buyer of an order with a Shopify account: `shopify-<customer id>`; None for a
    guest checkout (its buyer is keyed by its email: service/buyer_ids.guest_buyer)."""
    if order.customer and order.customer.id:
        return f"shopify-{order.customer.id}"
    return None


def guest_email(order: ShopifyOrder) -> str | None:
    return order.email or (order.customer.email if order.customer else None)


def legacy_guest_id(email: str) -> str:
    """The id a guest was given before the install's key (a plain sha256 of the lowercased
    email): looked up only, so a guest known under it keeps it; never given to a new one."""
    return f"{GUEST}-{hashlib.sha256(email.lower().encode()).hexdigest()[:16]}"


def line_origins(order: ShopifyOrder) -> list[int]:
    """For each orderpilot line of the order, the index of the Shopify line it came from."""
    return [origin for origin, _ in _split_lines(order)]


def line_numbers(order: ShopifyOrder) -> dict[str, list[int]]:
    """Each Shopify line item id → the numbers of the orderpilot lines placed from it (one, or
    two of the same sku a cent apart): what a refund's `refund_line_items[].line_item_id`
    gives back, in our lines (kept at placement: the lines as placed, whatever an edit in
    Shopify changes later)."""
    numbers: dict[str, list[int]] = {}
    for line_no, origin in enumerate(line_origins(order), start=1):
        numbers.setdefault(str(order.line_items[origin].id), []).append(line_no)
    return numbers


def _lines(order: ShopifyOrder) -> list[dict[str, Any]]:
    return [line for _, line in _split_lines(order)]


def _split_lines(order: ShopifyOrder) -> list[tuple[int, dict[str, Any]]]:
    lines = []
    for i, item in enumerate(order.line_items):
        field = f"line_items[{i}]"
        gross = minor(item.price, order.currency, f"{field}.price") * item.quantity
        discounts = [minor(d.amount, order.currency, f"{field}.discount_allocations")
                     for d in item.discount_allocations] or \
            [minor(item.total_discount, order.currency, f"{field}.total_discount")]
        net = gross - sum(discounts)
        if net < 0:
            raise InvalidInput({field: "discounts exceed the line's price"})
        lines += [(i, line) for line in split_total((item.sku or "").strip(), item.quantity,
                                                    net)]
    return lines
