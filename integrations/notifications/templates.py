"""Message templates per event: who hears about it and what they read (PII masked)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from integrations.notifications.masking import mask_address, mask_phone, mask_text
from statemachine.ports import Message


@dataclass(frozen=True, slots=True)
class Template:
    audience: str  # buyer | reviewer | ops
    title: str
    body: str


TEMPLATES: dict[str, Template] = {
    "orderpilot.order.under_review": Template(
        "reviewer", "Order {order_id} needs a risk review",
        "Buyer {buyer_id}, total {total} {currency}. Reasons: {reasons}. "
        "Ship-to: {address}."),
    "orderpilot.order.review_overdue": Template(
        "ops", "Escalation: review of {order_id} is overdue",
        "Order {order_id} has waited past its review SLA. Buyer {buyer_id}."),
    "orderpilot.shipment.stalled": Template(
        "buyer", "Your parcel for order {order_id} is delayed",
        "We are sorry: parcel {tracking_no} has not moved ({reason}). We have asked {carrier} "
        "to look for it and will update you within 24 hours."),
    "orderpilot.shipment.lost": Template(
        "buyer", "Your parcel for order {order_id} was lost",
        "We are sorry: {carrier} has lost parcel {tracking_no}. We will refund or resend it; "
        "no action is needed from you."),
    "orderpilot.order.refunded": Template(
        "buyer", "Refund for order {order_id}",
        "We have refunded {amount} {currency}. It reaches your account in 1-5 days."),
    "orderpilot.case.requested": Template(
        "reviewer", "After-sales request {case_id} on {order_id}",
        "{kind} for {requested_amount} {currency}: {reason}"),
    "orderpilot.case.sla_breached": Template(
        "ops", "Escalation: after-sales case {case_id} unanswered",
        "Case {case_id} on order {order_id} passed its 24 h response SLA (state {state})."),
    "orderpilot.case.return_bounced": Template(
        "ops", "Return parcel {parcel} of case {case_id} went back to the buyer",
        "Case {case_id} on order {order_id}: {reason}. Answer within 24 h: a new return label "
        "(await_return) or close the case."),
    "orderpilot.order.shipping_held": Template(
        "ops", "Do not ship {order_id}: refunded in full at {provider}",
        "Order {order_id} ({state}) had its money ({amount} {currency}) all refunded at "
        "{provider} outside orderpilot{why_not_cancelled}. Shipping is held: ship it anyway "
        "(ship_refunded: why, e.g. a gift) or cancel it (stock back)."),
    "orderpilot.order.refunded_after_shipping": Template(
        "ops", "Order {order_id} refunded in full at {provider} after it shipped",
        "Order {order_id} ({state}) had its money ({amount} {currency}) all refunded at "
        "{provider} outside orderpilot: the goods are gone with the money back. Decide "
        "whether to ask for them back."),
    "orderpilot.order.chargeback": Template(
        "ops", "Chargeback on order {order_id}",
        "The buyer's bank took back {amount}. Payment {payment_ref}. Collect evidence: "
        "`orderpilot evidence {order_id} --out DIR`."),
}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def render(event: str, payload: Mapping[str, Any],
           known: Iterable[str] = ()) -> Message | None:
    """The message for an event (None if nobody is told about it), with PII masked: PII
    fields, phones / IPs / e-mails in any text, and the `known` values of the order (its
    street, recipient, phone) wherever a reason quotes them."""
    template = TEMPLATES.get(event)
    if template is None:
        return None
    known = tuple(known)
    details = payload.get("details")  # a step's own details, under the event's fields
    fields = {**details, **payload} if isinstance(details, Mapping) else payload
    values = _Blank({k: _masked(k, v) for k, v in fields.items()})
    title = mask_text(template.title.format_map(values), known)
    body = mask_text(template.body.format_map(values), known)
    return Message(event, template.audience, title, body, payload.get("order_id"))


def _masked(key: str, value: Any) -> Any:
    if key in ("address", "shipping_address") and isinstance(value, Mapping):
        return ", ".join(str(v) for v in mask_address(value).values() if v)
    if key == "phone":
        return mask_phone(str(value))
    if key == "reasons" and isinstance(value, list):
        return "; ".join(str(r.get("text", r)) if isinstance(r, Mapping) else str(r)
                         for r in value)
    return value
