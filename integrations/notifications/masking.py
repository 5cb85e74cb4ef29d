"""PII masking for anything that leaves the store as text: logs, messages, artifacts.

Phones keep their first 3 and last 4 digits (138****0000); addresses keep the region (country,
province, city, district) and lose the street, the recipient's name and most of the postcode.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

PHONE = re.compile(r"(?<![\w-])\+?\d[\d \-]{6,}\d(?![\w-])")
KEEP = ("country", "province", "city", "district")


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = re.sub(r"\D", "", phone)
    if len(digits) >= 8:
        return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"
    return "*" * max(len(digits) - 2, 1) + digits[-2:]


def mask_address(address: Mapping[str, Any] | None) -> dict[str, Any]:
    """The address with only the region readable."""
    masked: dict[str, Any] = {}
    for key, value in (address or {}).items():
        if key in KEEP or value is None:
            masked[key] = value
        elif key == "phone":
            masked[key] = mask_phone(str(value))
        elif key == "postal_code":
            masked[key] = str(value)[:3] + "***"
        else:
            masked[key] = str(value)[:1] + "***"
    return masked


DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def mask_text(text: str) -> str:
    """Mask every phone-like run of 8–15 digits (dates are left alone) and every e-mail
    address (w***@example.cn) in free text."""
    def masked(match: re.Match[str]) -> str:
        run = match.group(0)
        digits = sum(ch.isdigit() for ch in run)
        if DATE.match(run) or not 8 <= digits <= 15:
            return run
        return mask_phone(run) or run

    return EMAIL.sub(r"\1***@\2", PHONE.sub(masked, text))


class PiiFilter(logging.Filter):
    """A logging filter that masks phone numbers and e-mail addresses in every record's final
    message, URL-encoded ones too (apprise logs the URLs it loads at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = mask_text(unquote(record.getMessage())), None
        return True
