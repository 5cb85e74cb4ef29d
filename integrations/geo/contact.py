"""Where an order goes and how to reach the buyer, checked and normalised once at placement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from integrations.geo.addresses import parse_address
from integrations.geo.phones import parse_phone
from statemachine.address import ParsedAddress
from statemachine.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Contact:
    address: ParsedAddress
    phone: str | None  # E.164


def parse_contact(request: Any) -> Contact:
    """The structured address and the E.164 phone of a `PlaceOrder`; InvalidInput names every
    bad field (`shipping_address.line`, `phone`, `shipping_address.phone`)."""
    problems: dict[str, str] = {}
    address = phone = None
    try:
        address = parse_address(request.shipping_address.model_dump(exclude_none=True))
    except InvalidInput as error:
        problems.update(error.problems)
    raw, field = ((request.phone, "phone") if request.phone
                  else (request.shipping_address.phone, "shipping_address.phone"))
    if raw:
        try:
            phone = parse_phone(raw, field).e164
        except InvalidInput as error:
            problems.update(error.problems)
    if problems or address is None:
        raise InvalidInput(problems)
    return Contact(address, phone)
