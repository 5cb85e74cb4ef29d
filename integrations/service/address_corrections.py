"""Correct an order's shipping address before it ships (`pilot.orders.correct_address`,
`orderpilot order address`).

An order held for `address_contradiction` (广东省 / 杭州市 / 西湖区), or any order the buyer
asks to send elsewhere, gets the address a person confirmed. The new address passes the checks
placement makes — parsed, region fields that contradict each other refused naming the field —
before anything is read or written; then the `correct_address` step (statemachine/order.py:
every state before `shipped`) replaces it through the one pipeline: history row with who did it
(the two addresses masked: the region readable, the street hidden, as events show them),
outbox event `address_corrected`, and the risk hook that moves the buyer's address counters.
Placement's address rules judge the new address and phone first (service/correction_risk.py):
a block-listed one is refused, one a placement would hold for a person is refused once the
order is past its review, and told to the reviewer while it is under review.

What the address names is replaced whole (line, street, district, city, province, postcode,
country): a corrected district with the old postcode would be a new contradiction. Who
receives it (recipient, phone) is kept unless the correction names them; a corrected phone is
where the buyer's notices and verification go too when the buyer gave no number of their own
(placement took the address's phone as theirs). A review waiting on
the order keeps waiting: correcting the address does not approve it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import Field

from integrations.geo.contact import Contact, checked_contact
from integrations.geo.phones import parse_phone
from integrations.notifications.masking import known_pii, mask_address, mask_text
from integrations.service import orders
from integrations.service.contention import retrying
from integrations.service.context import Context, Tx
from integrations.service.correction_plan import planned_for
from integrations.service.correction_risk import judged
from integrations.service.inputs import Address, Edge, check_actor, parse
from statemachine import limits
from statemachine.address import fold
from statemachine.errors import InvalidInput
from statemachine.order import ORDER_LIFECYCLE
from statemachine.order_aggregate import Order

CONTACT = ("recipient", "phone")  # who receives the parcel: kept unless the correction names it
REGION = ("province", "city", "district")  # shown in history and events, as placed or parsed


class CorrectAddress(Edge):
    address: Address
    reason: str | None = Field(None, max_length=limits.REASON)


def correct_address(ctx: Context, order_id: int, address: Any, by: Any,
                    reason: str | None = None, now: datetime | None = None) -> Corrected:
    """Replace the order's address with `address` (fields or `line`, as placement takes it),
    as `by`; InvalidInput naming `address.<field>` / `by` / `reason`, or InvalidTransition
    naming the state once the order has shipped (or was cancelled, rejected, expired) —
    nothing written either way. The address the order has already (recipient and phone
    included), however written (`unchanged`), changes nothing: `changed` False, no history
    row, no event."""
    request = prepared(address, by, reason)
    return _correct(ctx, order_id, request, now or ctx.clock.now())


@dataclass(frozen=True, slots=True)
class Request:
    """A correction checked before any transaction (parsing an address takes ms)."""

    sent: dict[str, Any]
    contact: Contact
    actor: str
    reason: str | None


class Corrected(NamedTuple):
    order: Order
    changed: bool  # False: the order had this address already, nothing was written


def prepared(address: Any, by: Any, reason: Any = None) -> Request:
    """The correction checked as placement checks an address: InvalidInput naming the field."""
    actor = _by(by)
    request = parse(CorrectAddress, {"address": address, "reason": reason})
    sent = request.address.model_dump(exclude_none=True)
    return Request(sent, checked(sent), actor, request.reason)


def checked(sent: Mapping[str, Any]) -> Contact:
    """The address parsed as placement parses it and the corrected phone in E.164 (None when
    the correction names none), or InvalidInput naming each field that placement would refuse
    (`address.street`, `address.province` contradicting the city, `address.phone` …)."""
    return checked_contact(sent, "address")


@retrying("correcting the address")
def _correct(ctx: Context, order_id: int, request: Request, now: datetime) -> Corrected:
    with ctx.tx() as tx:
        return correct_in(ctx, tx, order_id, request, now)


def correct_in(ctx: Context, tx: Tx, order_id: int, request: Request,
               now: datetime) -> Corrected:
    """The correction inside the caller's unit of work (the HTTP route logs its event in it)."""
    sent, contact, parsed = request.sent, request.contact, request.contact.address
    # the turns of the buyer (its addresses), the new address and the new numbers, as
    # placement takes them, before any row lock: a placement to them at the same moment is
    # judged with this correction counted, or this correction with that placement (side by
    # side on PostgreSQL, each missed the other: both passed phone_velocity)
    tx.store.placing_for(orders.risk_turns(contact, tx.store.get_order(order_id).buyer_id))
    order = tx.store.get_order(order_id, lock=True)
    refused = ORDER_LIFECYCLE.refusal(order, "correct_address")
    if refused is not None:  # shipped, cancelled …: refused before any rule or promise is
        raise orders.as_a_caller_sees(ctx, refused, order)  # worked out (nothing to write)
    old = order.attrs.get("shipping_address") or {}
    kept = {k: old[k] for k in CONTACT if old.get(k) and k not in sent}
    new = {**sent, **kept}
    if new == old or unchanged(order.attrs, sent, contact):  # sent again, in any form (a
        return Corrected(order, False)  # double click, a retry, the line re-typed)
    # placement's address rules, before anything is written (refusals write nothing)
    told = judged(ctx, tx, order, sent, contact, now)
    # the stock follows while no one has started on it; the promise always
    plan = planned_for(ctx, tx, order, parsed, now)
    params = {"shipping_address": new, "address": parsed.as_dict(),
              "shown_before": shown(old, order.attrs.get("address") or {}),
              "shown_after": shown(new, parsed.as_dict()),
              # the old street, recipient or phone named in it is masked now: once
              # replaced, they are no longer the order's for events to mask by
              "reason": mask_text(request.reason, known_pii(order.attrs))
              if request.reason else None,
              "buyer_phone": _buyer_phone(order.attrs, old, contact.phone),
              "recipient_phone": contact.recipient_phone,
              "risk": told, "promise_extra_days": plan.choice.extra_days,
              "allocation_reasons": list(plan.choice.reasons),
              "allocation": [[a.sku, a.warehouse, a.quantity]
                             for a in plan.choice.allocations] if plan.moved else None}
    orders.fire(ctx, tx, order, "correct_address", request.actor, params, now=now)
    return Corrected(order, True)


def unchanged(attrs: Mapping[str, Any], sent: Mapping[str, Any], contact: Contact) -> bool:
    """Whether the correction leaves the parcel's destination and receiver as they are,
    however it is written (one `line` or fields, spaces, full-width digits): the same parsed
    address (`ParsedAddress.key`, no contradiction left to clear, the same note for the
    courier), the same recipient (width, case and spacing aside) when it names one, the same
    phone in E.164 when it names one."""
    placed = attrs.get("address") or {}
    old = attrs.get("shipping_address") or {}
    same_place = (placed.get("key") == contact.address.key and not placed.get("conflicts")
                  and fold(placed.get("note") or "") == fold(contact.address.note))
    same_recipient = "recipient" not in sent or \
        fold(str(sent["recipient"])) == fold(str(old.get("recipient") or ""))
    same_phone = contact.phone is None or contact.phone == _e164(old.get("phone"))
    return same_place and same_recipient and same_phone


def _buyer_phone(attrs: Mapping[str, Any], old: Mapping[str, Any],
                 corrected: str | None) -> str | None:
    """The buyer's number for notices and verification after the correction: the corrected
    phone (E.164, parsed once by `checked`) when the buyer had none of their own — placement
    took the address's phone as theirs, and it is usually corrected because it was mistyped;
    None keeps theirs."""
    if corrected is None:
        return None
    if attrs.get("phone") not in (None, _e164(old.get("phone"))):
        return None  # the buyer gave their own number at placement: it stays
    return corrected


def _e164(phone: Any) -> str | None:
    try:
        return parse_phone(str(phone), "address.phone").e164 if phone else None
    except InvalidInput:  # an old number placement took before phones were checked
        return None


def shown(sent: Mapping[str, Any], parsed: Mapping[str, Any]) -> dict[str, Any]:
    """The address as history and events show it: masked (street, recipient, phone hidden),
    with the region the parser read in it — an address given as one `line` is masked whole,
    and its region would otherwise not show at all."""
    region = {k: parsed[k] for k in REGION if parsed.get(k) and not sent.get(k)}
    return {**mask_address(sent), **region}


def _by(by: Any) -> str:
    """Who corrects: named as a reviewer is (a name of 1–128 characters), field `by`."""
    try:
        return check_actor(by).strip()
    except InvalidInput as error:
        raise InvalidInput({"by": next(iter(error.problems.values()))}) from None
