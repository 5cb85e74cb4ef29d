"""Phones → E.164 with Google's phonenumbers (numbers without a country code are read as
mainland China). Which segments count as virtual operators is a risk rule
(`statemachine.risk.rules.virtual_phone`); `virtual` here uses the manuals' default list.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

from statemachine.errors import InvalidInput

VIRTUAL_SEGMENTS = ("170", "171", "162", "165", "167")  # China's virtual-operator segments


@dataclass(frozen=True, slots=True)
class Phone:
    e164: str
    virtual: bool  # a mainland China mobile number in a virtual-operator segment


def parse_phone(raw: str, field: str = "phone", region: str = "CN",
                virtual_segments: tuple[str, ...] = VIRTUAL_SEGMENTS) -> Phone:
    """Validate and normalise; InvalidInput names the field when it is not a real number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInput({field: f"expected a valid phone number, e.g. +86 138 0013 8000 "
                                   f"(got {raw!r})"})
    national = str(number.national_number)
    virtual = number.country_code == 86 and national.startswith(virtual_segments)
    return Phone(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
                 virtual)
