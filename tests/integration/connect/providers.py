"""Provider payloads built from the providers' documented examples (Kuaidi100's push sample,
AfterShip's tracking webhook sample), with Chinese data, and signed the providers' way."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

KUAIDI100_SALT = "salt-for-tests"
AFTERSHIP_SECRET = "aftership-webhook-secret-for-tests"


def kuaidi100_param(number: str, state: str, when: str = "2026-11-12 16:33:19",
                    context: str = "【杭州市】已到达 杭州转运中心", company: str = "yuantong",
                    ischeck: str = "0") -> str:
    """The push `param` as Kuaidi100 documents it (lastResult with newest checkpoint first)."""
    return json.dumps({
        "status": "polling", "billstatus": "got", "message": "", "autoCheck": "0",
        "comOld": "", "comNew": "",
        "lastResult": {"message": "ok", "nu": number, "ischeck": ischeck, "condition": "00",
                       "com": company, "status": "200", "state": state, "data": [
                           {"time": when, "ftime": when, "context": context,
                            "areaCode": "330100000000", "areaName": "浙江,杭州市",
                            "status": "在途"},
                           {"time": "2026-11-11 20:10:00", "ftime": "2026-11-11 20:10:00",
                            "context": "【杭州市】圆通速递 已揽收", "status": "揽收"}]}},
        ensure_ascii=False)


def kuaidi100_form(param: str, salt: str = KUAIDI100_SALT) -> bytes:
    sign = hashlib.md5((param + salt).encode()).hexdigest().upper()
    return urlencode({"param": param, "sign": sign}).encode()


def aftership_body(number: str, tag: str, subtag: str = "", event_id: str = "evt-1",
                   slug: str = "sf-express", when: str = "2026-11-12T09:30:00+08:00") -> bytes:
    checkpoint: dict[str, Any] = {"checkpoint_time": when, "city": "杭州市",
                                  "location": "杭州转运中心", "message": "快件已到达杭州转运中心",
                                  "tag": tag, "subtag": subtag or f"{tag}_001",
                                  "country_region": "CHN"}
    return json.dumps({"event": "tracking_update", "event_id": event_id,
                       "is_tracking_first_tag": False, "ts": 1794700000,
                       "msg": {"id": "5b74f4958776db0e00b6f5ed", "tracking_number": number,
                               "slug": slug, "tag": tag, "subtag": subtag or f"{tag}_001",
                               "title": number, "checkpoints": [checkpoint]}},
                      ensure_ascii=False).encode()


def aftership_signature(body: bytes, secret: str = AFTERSHIP_SECRET) -> str:
    """Computed independently of the SDK: base64 HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


SHOPIFY_SECRET = "shopify-app-secret-for-tests"
SHOP = "tea-house.myshopify.com"


def shopify_order(order_id: int = 5_890_123_456, *, skus: tuple[str, ...] = ("SKU-1",),
                  price: str = "39.90", quantity: int = 2, financial_status: str = "pending",
                  currency: str = "CNY", discount: str = "0.00", **extra: Any) -> dict[str, Any]:
    """An order payload shaped like Shopify's documented orders/create example (Admin REST
    Order), with a Chinese buyer and address."""
    lines = [{"id": 866_550_311_766_439_000 + n, "variant_id": 808_950_810 + n,
              "title": "西湖龙井 250g", "quantity": quantity, "sku": sku, "price": price,
              "total_discount": discount, "discount_allocations":
                  [{"amount": discount, "discount_application_index": 0}]
                  if discount != "0.00" else [],
              "requires_shipping": True, "taxable": True, "gift_card": False,
              "fulfillment_status": None, "product_id": 632_910_392}
             for n, sku in enumerate(skus)]
    address = {"first_name": "芳", "last_name": "王", "name": "王芳",
               "address1": "文三路 18 号", "address2": "3 单元 501", "city": "杭州市",
               "province": "浙江省", "province_code": "ZJ", "zip": "310012", "country": "China",
               "country_code": "CN", "phone": "+86 139 1234 5678", "company": None}
    return {"id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
            "name": "#1001", "order_number": 1001, "email": "wangfang@example.cn",
            "created_at": "2026-11-11T09:00:00+08:00", "currency": currency,
            "presentment_currency": currency, "financial_status": financial_status,
            "fulfillment_status": None, "cancelled_at": None, "cancel_reason": None,
            "total_price": "89.80", "subtotal_price": "79.80", "total_tax": "0.00",
            "total_discounts": discount, "browser_ip": "203.0.113.42",
            "client_details": {"browser_ip": "203.0.113.42", "user_agent": "Mozilla/5.0"},
            "customer_locale": "zh-CN",
            "customer": {"id": 207_119_551, "email": "wangfang@example.cn",
                         "first_name": "芳", "last_name": "王", "phone": "+8613912345678"},
            "billing_address": address, "shipping_address": address,
            "shipping_lines": [{"title": "顺丰标快", "price": "10.00", "code": "SF"}],
            "line_items": lines, **extra}


def shopify_refund(order_id: int, subtotal: str = "39.90", quantity: int = 1,
                   shipping: str = "0.00", currency: str = "CNY", refund_id: int = 509_562_969,
                   status: str = "success", amount: str | None = None,
                   transaction_id: int | None = None) -> dict[str, Any]:
    """A refunds/create payload (Admin REST Refund) refunding goods and maybe shipping, shaped
    as Shopify documents it: the goods in `refund_line_items`, the shipping in
    `refund_shipping_lines` and an order adjustment of kind `shipping_refund`, and the money
    returned in `transactions` (goods + shipping unless `amount` says otherwise), one
    transaction whose id (unique in Shopify, as every id) follows the refund's."""
    money = amount or f"{float(subtotal) + float(shipping):.2f}"
    lines = [{"id": 104_689_539, "quantity": quantity,
              "line_item_id": 866_550_311_766_439_000, "subtotal": subtotal,
              "total_tax": "0.00"}] if quantity else []
    shipped = float(shipping) > 0
    return {"id": refund_id, "order_id": order_id, "note": "买家退货",
            "created_at": "2026-11-20T10:00:00+08:00", "restock": True,
            "refund_line_items": lines,
            "refund_shipping_lines": [{"id": 271_878_346, "shipping_line_id": 369_256_396,
                                       "subtotal_amount_set": {"shop_money": {
                                           "amount": shipping, "currency_code": currency}}}]
            if shipped else [],
            "transactions": [{"id": transaction_id or refund_id - 330_303_000, "kind": "refund",
                              "status": status,
                              "amount": money, "currency": currency, "gateway": "alipay",
                              "parent_id": 801_038_806}],
            "order_adjustments": [{"id": 1_030_976_842, "order_id": order_id,
                                   "refund_id": refund_id, "kind": "shipping_refund",
                                   "reason": "Shipping refund", "amount": f"-{shipping}",
                                   "tax_amount": "0.00"}] if shipped else []}


def shopify_transaction(order_id: int, transaction_id: int = 179_259_969, amount: str = "39.90",
                        kind: str = "refund", status: str = "success",
                        currency: str = "CNY") -> dict[str, Any]:
    """An order_transactions/create payload (Admin REST Transaction), with the fields Shopify's
    webhook reference lists for the topic; Shopify sends it when a transaction is created or
    its status changes, for success, failure and error only."""
    return {"id": transaction_id, "order_id": order_id, "kind": kind, "gateway": "alipay",
            "status": status, "message": None, "created_at": "2026-11-20T10:00:00+08:00",
            "test": False, "authorization": None, "location_id": None, "user_id": None,
            "parent_id": 801_038_806, "processed_at": "2026-11-21T15:30:00+08:00",
            "device_id": None, "error_code": None, "source_name": "web", "receipt": {},
            "amount": amount, "currency": currency, "payment_id": "c25048437719.2",
            "total_unsettled_set": {"presentment_money": {"amount": "0.00", "currency": currency},
                                    "shop_money": {"amount": "0.00", "currency": currency}},
            "manual_payment_gateway": False, "amount_rounding": None,
            "admin_graphql_api_id": f"gid://shopify/OrderTransaction/{transaction_id}"}


def shopify_headers(body: bytes, topic: str, webhook_id: str, secret: str = SHOPIFY_SECRET,
                    shop: str = SHOP) -> dict[str, str]:
    mac = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {"content-type": "application/json", "x-shopify-topic": topic,
            "x-shopify-hmac-sha256": mac, "x-shopify-shop-domain": shop,
            "x-shopify-webhook-id": webhook_id, "x-shopify-api-version": "2025-10",
            "x-shopify-triggered-at": "2026-11-11T01:00:00.000Z"}
