"""Phones → E.164 with Google's phonenumbers (numbers without a country code are read as
mainland China). Which segments count as virtual operators is a risk rule
(`statemachine.risk.rules.virtual_phone`, `[phone] virtual_segments`), not decided here.
How a number is read and shown as national digits is here once: notifications/masking.py
hides phones with the same two helpers (`read_number`, `national_digits`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from statemachine.errors import InvalidInput

HOME_REGION = "CN"
CHINA = 86  # the country code whose numbers are shown as dialled at home, without it


@dataclass(frozen=True, slots=True)
class Phone:
    e164: str


# An office extension the way Chinese buyers write it, after the number: 0571-8888 8888-123,
# 0571-88888888转123, 分机 123 (phonenumbers reads "ext" and "#" itself, not these)
EXTENSION = re.compile(r"\s*(?:转|分机|-)\s*[0-9]{1,6}\s*$")


# A returning buyer's number is not read again (~20 µs of phonenumbers); errors are not kept
@lru_cache(maxsize=16_384)
def parse_phone(raw: str, field: str = "phone", region: str = HOME_REGION) -> Phone:
    """Validate and normalise (an extension is dropped: E.164 has none); InvalidInput names
    the field when it is not a real number."""
    number = _valid(raw, region)
    if number is None and (ext := EXTENSION.search(raw)):
        number = _valid(raw[:ext.start()], region)  # the number before it, if it is one
    if number is None:
        raise InvalidInput({field: f"expected a valid phone number, e.g. +86 138 0013 8000 "
                                   f"(got {raw!r})"})
    return Phone(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def home_digits(phone: Phone) -> str:
    """The number as digits the way it is dialled at home: China's national form (13912345678,
    01065529988), the international form elsewhere (85291234567)."""
    number = phonenumbers.parse(phone.e164)
    if number.country_code == CHINA:
        return national_digits(number)
    return phone.e164.lstrip("+")


def _valid(raw: str, region: str) -> phonenumbers.PhoneNumber | None:
    number = read_number(raw, region)
    return number if number is not None and phonenumbers.is_valid_number(number) else None


def read_number(raw: str, region: str = HOME_REGION) -> phonenumbers.PhoneNumber | None:
    """The number phonenumbers reads in `raw` (not checked to be possible or valid), or None
    when it reads none."""
    try:
        return phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None


def national_digits(number: phonenumbers.PhoneNumber) -> str:
    """The national number as digits: a Chinese one as dialled at home, a landline with its
    trunk 0 (13912345678, 01065529988); elsewhere the national significant number, without a
    trunk prefix (+44 7700 900123 → 7700900123)."""
    if number.country_code == CHINA:
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        return re.sub(r"\D", "", national)
    return phonenumbers.national_significant_number(number)
