"""Alipay's asynchronous notifications (notify_url), verified and translated to MoneyEvents.

The RSA2 signature is checked with the SDK's own `verify` and Alipay's public key (over every
field but `sign` and `sign_type`, sorted); then the app id (and seller, if configured) must be
ours, `notify_time` fresh, `notify_id`, `out_trade_no` and the amount present, the amount yuan
with at most two decimals, `out_trade_no` an order id as our codec writes it (our checkout
numbers every trade so). A forged, stale or malformed notification raises WebhookRefused; a
replayed one is answered from the log by its `notify_id`. Alipay expects the plain answer `success`.
TRADE_SUCCESS and TRADE_FINISHED both mean the buyer paid (Alipay's documented rule: a product
sold without refunds notifies TRADE_FINISHED only; others TRADE_SUCCESS, then TRADE_FINISHED
when the refund period ends). A refund notice carries the trade's payment too (`total_amount`,
`gmt_payment`): it is given first, so a refund notice that overtakes the payment notice books
both (see integrations/payments/README.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from alipay import AliPay

from integrations.currencies import shop_currency_problem
from integrations.payments.alipay_gateway import BadAmount, minor_units
from statemachine import ids
from statemachine.errors import InvalidInput
from statemachine.ports import MoneyEvent, WebhookRefused

BEIJING = timezone(timedelta(hours=8))  # Alipay's timestamps are Beijing time, no zone


def read_notify(form: Mapping[str, str], client: AliPay, app_id: str, now: datetime,
                tolerance_seconds: int, seller_id: str | None = None) -> list[MoneyEvent]:
    """The verified notification as the MoneyEvents to apply, in order: none for one that moves
    no money; a refund notice saying the trade was paid (`total_amount`, `gmt_payment`) gives
    that payment first (event `<notify_id>:paid`), so a refund notice that overtakes the payment
    notice books both — the payment notice then books nothing more."""
    data = _verified(form, client, app_id, now, tolerance_seconds, seller_id)
    kind = _kind(data)
    if kind is None:
        return []
    event = _event(data, kind)
    if kind == "refunded" and data.get("total_amount") and data.get("gmt_payment"):
        return [_event(data, "captured", ":paid"), event]
    return [event]


def _verified(form: Mapping[str, str], client: AliPay, app_id: str, now: datetime,
              tolerance_seconds: int, seller_id: str | None) -> dict[str, str]:
    data = dict(form)
    signature = data.pop("sign", None)
    if not signature or not client.verify(dict(data), signature):
        raise WebhookRefused("alipay signature refused")
    if data.get("app_id") != app_id or (seller_id and data.get("seller_id") != seller_id):
        raise WebhookRefused("alipay notification for another app or seller")
    sent = _beijing(data.get("notify_time"), "notify_time")
    if abs((now - sent).total_seconds()) > tolerance_seconds:
        raise WebhookRefused(f"alipay notification sent at {data['notify_time']} (Beijing) is "
                             f"outside the {tolerance_seconds} s window")
    return data


def _event(data: Mapping[str, str], kind: str, suffix: str = "") -> MoneyEvent:
    refunded = kind == "refunded"
    field = "refund_fee" if refunded else "total_amount"
    for needed in ("notify_id", "out_trade_no", field):  # a 500 or an amount of 0 before
        if not data.get(needed):
            raise WebhookRefused(f"alipay notification has no {needed}")
    # a cross-border trade's amounts are in its price's currency, with that currency's
    # decimals (1000 yen is "1000", not "10.00")
    currency = data.get("trans_currency") or "CNY"
    problem = shop_currency_problem(currency) if re.fullmatch("[A-Z]{3}", currency) else \
        "expected three capitals, e.g. USD"
    if problem:  # an unknown code would be read with two decimals: yen 100× too large
        raise WebhookRefused(f"alipay trans_currency {currency[:16]!r}: {problem}")
    try:  # signed by Alipay but not an amount: refused (and logged), never rounded
        amount = minor_units(data[field], field, currency)
    except BadAmount as error:
        raise WebhookRefused(str(error)) from None
    _our_order_id(data["out_trade_no"])
    when = data.get("gmt_refund" if refunded else "gmt_payment") or data["notify_time"]
    # out_biz_no: the refund request the notice is about — our out_request_no, or none for a
    # refund staff made in the merchant portal
    ref = (data.get("out_biz_no") or "") if refunded else None
    return MoneyEvent("alipay", data["notify_id"] + suffix, kind, data["out_trade_no"], amount,
                      currency, _beijing(when, "gmt"), order_id=data["out_trade_no"],
                      refund_ref=ref)


def _our_order_id(out_trade_no: str) -> None:
    """Our checkout numbers every trade with the order's id as the codec writes it: any other
    out_trade_no (`o-01`, which a loose parse read as o-1) is no trade of ours, refused."""
    try:
        ids.ORDER.parse(out_trade_no, "out_trade_no")
    except InvalidInput:
        raise WebhookRefused(f"alipay out_trade_no {out_trade_no[:64]!r} is not an order id "
                             "of ours (expected like o-123: ASCII digits, no leading zero)"
                             ) from None


def _kind(data: Mapping[str, str]) -> str | None:
    status, refund = data.get("trade_status"), data.get("refund_fee")
    if refund and status in ("TRADE_SUCCESS", "TRADE_FINISHED", "TRADE_CLOSED"):
        return "refunded"  # refund_fee is the trade's refunded total so far
    return {"TRADE_SUCCESS": "captured", "TRADE_FINISHED": "captured",
            "TRADE_CLOSED": "closed"}.get(status or "")


def _beijing(text: str | None, field: str) -> datetime:
    try:
        return datetime.strptime(text or "", "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    except ValueError:
        raise WebhookRefused(f"alipay {field} is not 'YYYY-MM-DD HH:MM:SS'") from None
