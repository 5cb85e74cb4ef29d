"""Buyer notices: what a shop tells its buyer, in Chinese or English, and when.

| notice | event | says |
|---|---|---|
| confirmed | orderpilot.order.awaiting_payment | the order is confirmed; pay before the hold ends |
| paid | orderpilot.order.paid | payment received |
| shipped | orderpilot.order.shipped | on its way: carrier, tracking number and link per parcel |
| delivered | orderpilot.order.delivered | delivered; after-sales within 7 days |
| refunded | orderpilot.order.refunded, .cancelled (if money went back) | refund issued |
| aftersales | orderpilot.case.auto_approved / approved / rejected | the decision on a request |

Messages carry no street, recipient or phone: only the order, amounts and the tracking link.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from statemachine.currency import shown
from statemachine.ports import Message

NOTICES = {
    "confirmed": ("orderpilot.order.awaiting_payment",),
    "paid": ("orderpilot.order.paid",),
    "shipped": ("orderpilot.order.shipped",),
    "delivered": ("orderpilot.order.delivered",),
    "refunded": ("orderpilot.order.refunded", "orderpilot.order.cancelled"),
    "aftersales": ("orderpilot.case.auto_approved", "orderpilot.case.approved",
                   "orderpilot.case.rejected"),
}
NOTICE_OF = {event: name for name, events in NOTICES.items() for event in events}

TEXT: dict[str, dict[str, tuple[str, str]]] = {
    "zh": {
        "confirmed": ("【{shop}】订单 {order_id} 已确认",
                      "您的订单 {order_id} 已确认，应付 {total}。请在 {hold_until} 前完成付款，"
                      "逾期订单将自动取消。"),
        "paid": ("【{shop}】订单 {order_id} 付款成功",
                 "我们已收到订单 {order_id} 的付款 {paid}，将尽快为您发货。"),
        "shipped": ("【{shop}】订单 {order_id} 已发货",
                    "您的订单 {order_id} 已发货：{parcels}"),
        "delivered": ("【{shop}】订单 {order_id} 已签收",
                      "订单 {order_id} 已签收。如有问题，签收后 7 天内可申请售后。"),
        "refunded": ("【{shop}】订单 {order_id} 退款已发起",
                     "订单 {order_id} 的退款 {amount} 已发起，预计 1-5 个工作日原路退回。"),
        "approved": ("【{shop}】售后申请 {case_id} 已通过",
                     "您对订单 {order_id} 的{kind}申请 {case_id} 已通过。{next_step}"),
        "rejected": ("【{shop}】售后申请 {case_id} 未通过",
                     "很抱歉，您对订单 {order_id} 的{kind}申请 {case_id} 未通过：{reason}"),
        "parcel": "{carrier} {tracking_no}（查询：{link}）",
        "kinds": {"refund_only": "仅退款", "return_refund": "退货退款", "exchange": "换货",
                  "repair": "维修"},
        "next": {"refund_only": "退款将原路退回。",
                 "return_refund": "请按退货单寄回商品，我们收到后为您退款。",
                 "exchange": "请寄回商品，我们收到并检验后为您发出新品。",
                 "repair": "请寄回商品，维修后我们将寄还给您。"},
    },
    "en": {
        "confirmed": ("[{shop}] Order {order_id} confirmed",
                      "Your order {order_id} is confirmed: {total} to pay before {hold_until}; "
                      "unpaid orders are cancelled after that."),
        "paid": ("[{shop}] Payment received for {order_id}",
                 "We received {paid} for order {order_id} and will ship it soon."),
        "shipped": ("[{shop}] Order {order_id} shipped",
                    "Your order {order_id} is on its way: {parcels}"),
        "delivered": ("[{shop}] Order {order_id} delivered",
                      "Order {order_id} was delivered. Something wrong? You can ask for "
                      "after-sales within 7 days."),
        "refunded": ("[{shop}] Refund for {order_id}",
                     "We have refunded {amount} for order {order_id}; it reaches your account "
                     "in 1-5 working days."),
        "approved": ("[{shop}] Request {case_id} approved",
                     "Your {kind} request {case_id} for order {order_id} is approved. "
                     "{next_step}"),
        "rejected": ("[{shop}] Request {case_id} declined",
                     "Sorry, your {kind} request {case_id} for order {order_id} was declined: "
                     "{reason}"),
        "parcel": "{carrier} {tracking_no} (track: {link})",
        "kinds": {"refund_only": "refund", "return_refund": "return", "exchange": "exchange",
                  "repair": "repair"},
        "next": {"refund_only": "The refund goes back the way you paid.",
                 "return_refund": "Please send the goods back with the return label; we "
                                  "refund when they arrive.",
                 "exchange": "Please send the goods back; we ship the replacement once they "
                             "are checked.",
                 "repair": "Please send the item in; we return it repaired."},
    },
}


@dataclass(frozen=True, slots=True)
class NoticeFacts:
    """What a notice may say beyond the event: the order's money and its parcels."""

    currency: str
    total: int
    paid: int
    hold_until: str | None
    locale: str | None
    parcels: Sequence[Mapping[str, str]] = ()  # carrier, tracking_no, link


def events_for(enabled: Sequence[str]) -> list[str]:
    """The events behind the enabled notices."""
    return [event for name in enabled for event in NOTICES[name]]


def language(locale: str | None, default: str) -> str:
    return "zh" if (locale or default).lower().startswith("zh") else \
        "en" if (locale or default).lower().startswith("en") else default


def render_notice(event: str, data: Mapping[str, Any], facts: NoticeFacts, shop: str,
                  default_language: str, contact: Mapping[str, str]) -> Message | None:
    """The buyer's message for an event, or None when this event tells the buyer nothing."""
    name = NOTICE_OF.get(event)
    if name is None:
        return None
    details = data.get("details") or {}
    if event == "orderpilot.order.cancelled" and not details.get("refund"):
        return None  # nothing was paid: nothing to tell about money
    text = TEXT[language(facts.locale, default_language)]
    key = name if name != "aftersales" else ("rejected" if event.endswith("rejected")
                                              else "approved")
    title, body = text[key]
    kind = str(data.get("kind", ""))
    values = {
        "shop": shop, "order_id": data.get("order_id", ""), "case_id": data.get("case_id", ""),
        "total": money(facts.total, facts.currency),
        # paid on an authorisation (capture at shipping): to the buyer, that is their payment
        "paid": money(facts.paid or int(details.get("authorised") or 0), facts.currency),
        "amount": money(int(details.get("amount") or details.get("refund") or 0),
                        facts.currency),
        "hold_until": facts.hold_until or "", "kind": text["kinds"].get(kind, kind),
        "next_step": text["next"].get(kind, ""), "reason": details.get("reason") or "",
        "parcels": "; ".join(text["parcel"].format(**p) for p in facts.parcels)}
    return Message(event, "buyer", title.format(**values), body.format(**values),
                   data.get("order_id"), contact=dict(contact))


money = shown
