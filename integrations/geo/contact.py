"""Where an order goes and how to reach the buyer, checked and normalised once at placement."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from integrations.geo.addresses import parse_address
from integrations.geo.phones import parse_phone
from statemachine.address import ParsedAddress
from statemachine.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Contact:
    address: ParsedAddress
    phone: str | None  # E.164: the buyer's own number, else the recipient's
    recipient_phone: str | None = None  # E.164: the shipping address's number, if it has one
    buyer_phone: str | None = None  # E.164: the buyer's own number; None when they gave none

    @property
    def phone_is_recipients(self) -> bool:
        """`phone` is the recipient's number standing in for the buyer's (they gave none):
        the risk reasons say whose number they name (a code sent to it reaches the recipient)."""
        return self.phone is not None and self.buyer_phone is None


# What a placement does with region fields that contradict each other (广东省 / 杭州市):
# "refuse" them naming the field (the Python API, the HTTP placement: the caller can fix the
# address), or take the order for "review" (a Shopify webhook, an import: the order exists
# elsewhere already; the risk engine holds it, `address_contradiction`)
Contradictions = Literal["refuse", "review"]


def parse_contact(request: Any, contradictions: Contradictions = "refuse") -> Contact:
    """The structured address and the E.164 phones of a `PlaceOrder` (the buyer's `phone`, the
    recipient's `shipping_address.phone`); InvalidInput names every bad field
    (`shipping_address.line`, `phone`, `shipping_address.phone`, `shipping_address.province`
    that does not contain the city …)."""
    return checked_contact(request.shipping_address.model_dump(exclude_none=True),
                           "shipping_address", contradictions, buyer_phone=request.phone)


def checked_contact(address_fields: Mapping[str, Any], field: str,
                    contradictions: Contradictions = "refuse", *,
                    buyer_phone: str | None = None) -> Contact:
    """An address given as fields (under `field`, its number under `field.phone`) and the
    buyer's own number (`phone`), checked as placement checks them: InvalidInput naming every
    bad field at once. Both numbers are checked, though only one reaches the buyer: the
    recipient's is counted by the risk rules too (a ring shares it under many buyers)."""
    problems: dict[str, str] = {}
    address = None
    try:
        address = parse_address(address_fields, field=field)
    except InvalidInput as error:
        problems.update(error.problems)
    if address is not None and contradictions == "refuse":
        problems.update({f"{field}.{c.field}": c.why for c in address.conflicts})
    recipient = _phone(address_fields.get("phone"), f"{field}.phone", problems)
    own = _phone(buyer_phone, "phone", problems)
    if problems or address is None:
        raise InvalidInput(problems)
    return Contact(address, own or recipient, recipient, buyer_phone=own)


def _phone(raw: Any, field: str, problems: dict[str, str]) -> str | None:
    if not raw:
        return None
    try:
        return parse_phone(str(raw), field).e164
    except InvalidInput as error:
        problems.update(error.problems)
        return None
