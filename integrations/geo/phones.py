"""Phones → E.164 with Google's phonenumbers (numbers without a country code are read as
mainland China). Which segments count as virtual operators is a risk rule
(`statemachine.risk.rules.virtual_phone`, `[phone] virtual_segments`), not decided here.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

from statemachine.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Phone:
    e164: str


def parse_phone(raw: str, field: str = "phone", region: str = "CN") -> Phone:
    """Validate and normalise; InvalidInput names the field when it is not a real number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInput({field: f"expected a valid phone number, e.g. +86 138 0013 8000 "
                                   f"(got {raw!r})"})
    return Phone(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
