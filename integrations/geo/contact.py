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
    phone: str | None  # E.164


# What a placement does with region fields that contradict each other (广东省 / 杭州市):
# "refuse" them naming the field (the Python API, the HTTP placement: the caller can fix the
# address), or take the order for "review" (a Shopify webhook, an import: the order exists
# elsewhere already; the risk engine holds it, `address_contradiction`)
Contradictions = Literal["refuse", "review"]


def parse_contact(request: Any, contradictions: Contradictions = "refuse") -> Contact:
    """The structured address and the E.164 phone of a `PlaceOrder`; InvalidInput names every
    bad field (`shipping_address.line`, `phone`, `shipping_address.phone`,
    `shipping_address.province` that does not contain the city …)."""
    raw, field = ((request.phone, "phone") if request.phone
                  else (request.shipping_address.phone, "shipping_address.phone"))
    return checked_contact(request.shipping_address.model_dump(exclude_none=True),
                           "shipping_address", raw, field, contradictions)


def checked_contact(address_fields: Mapping[str, Any], field: str, raw_phone: str | None,
                    phone_field: str, contradictions: Contradictions = "refuse") -> Contact:
    """An address given as fields (under `field`) and a phone (under `phone_field`), checked
    as placement checks them: InvalidInput naming every bad field at once."""
    problems: dict[str, str] = {}
    address = phone = None
    try:
        address = parse_address(address_fields, field=field)
    except InvalidInput as error:
        problems.update(error.problems)
    if address is not None and contradictions == "refuse":
        problems.update({f"{field}.{c.field}": c.why for c in address.conflicts})
    if raw_phone:
        try:
            phone = parse_phone(raw_phone, phone_field).e164
        except InvalidInput as error:
            problems.update(error.problems)
    if problems or address is None:
        raise InvalidInput(problems)
    return Contact(address, phone)
