"""Money a shop's own code reports: a payment taken by a provider orderpilot has no webhook for.

`pilot.orders.pay(...)` is the Python twin of `POST /v1/payments/events` with a `succeeded`
event: it builds that event and applies it with the same handler (`handlers.payment_event`), so
money for an order that can no longer take it (expired, cancelled, rejected, paid by another
payment) or that is not its total goes through the late-payment policy exactly as the webhook's
does — revived under `ORDERPILOT_LATE_PAYMENTS=revive` when it can be, else recorded and
refunded. The event id is derived from the provider's payment id, so reporting a payment again
answers as the first report did and changes nothing.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from integrations.ingest import handlers
from integrations.ingest.events import PaymentEvent
from integrations.ingest.once import IdempotencyConflict
from integrations.service.context import Context
from integrations.service.inputs import check_when, parse, parse_id
from integrations.service.views import OrderView
from statemachine import ids, limits
from statemachine.errors import InvalidInput

_PRINTABLE = re.compile(r"^[\x21-\x7e]+$")


class PaymentOutcome(BaseModel):
    """What a reported payment did: `paid` (the order took it; one waiting for a risk decision
    keeps it), `revived` (an expired order took it, by policy), `refunded` (late money: recorded
    and given back, `refund` is the refund's key) or `unchanged` (this money was recorded
    already). `duplicate`: the same report came before; this is its answer."""

    model_config = ConfigDict(frozen=True)
    outcome: Literal["paid", "revived", "refunded", "unchanged"]
    order: OrderView
    refund: str | None = None
    note: str | None = None
    duplicate: bool = False


def report_payment(ctx: Context, order_id: Any, amount: Any, payment_ref: Any,
                   currency: Any = None, paid_at: Any = None) -> PaymentOutcome:
    """Apply the payment as the payments webhook would, once per `payment_ref`; then make the
    late refund it recorded (after the commit; a transient failure is left to the money
    sweep). Bad input raises InvalidInput naming the argument, writing nothing."""
    number = parse_id("order_id", order_id, "o")
    when = check_when("paid_at", paid_at) if paid_at is not None else None
    event = parse(PaymentEvent, {
        "event_id": event_id(payment_ref), "type": "succeeded", "order_id": ids.ORDER(number),
        "amount": amount, "currency": currency, "payment_ref": payment_ref, "occurred_at": when})
    try:
        outcome = handlers.payment_event(ctx, event)
    except IdempotencyConflict:
        raise InvalidInput({"payment_ref": f"{payment_ref} was reported already with another "
                                           "order, amount, currency or time: the first report "
                                           "stands"}) from None
    handlers.late_refund(ctx, outcome)
    with ctx.tx(readonly=True) as tx:
        order = OrderView.of(tx.store.get_order(number))
    body = outcome.body
    late = body.get("late_payment") or {}
    return PaymentOutcome(outcome=_what(body["applied"], late), order=order,
                          refund=late.get("refund"), note=body.get("note"),
                          duplicate=outcome.duplicate)


def event_id(payment_ref: Any) -> str:
    """The event id a report is logged under: `api:<payment_ref>`, or its digest when the
    reference is not printable ASCII or too long for an event id."""
    if not isinstance(payment_ref, str) or not payment_ref:
        return "api:-"  # the event's own check then names payment_ref
    readable = f"api:{payment_ref}"
    if _PRINTABLE.match(readable) and len(readable) <= limits.REF:
        return readable
    return "api:sha256:" + hashlib.sha256(payment_ref.encode("utf-8", "surrogatepass")
                                          ).hexdigest()


def _what(applied: bool, late: dict[str, Any]) -> Literal["paid", "revived", "refunded",
                                                          "unchanged"]:
    if not applied:
        return "unchanged"
    if late:
        return "revived" if late.get("revived") else "refunded"
    return "paid"
