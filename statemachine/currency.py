"""Money as providers and exports write it (decimal major units) → integer minor units."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from statemachine.errors import InvalidInput

EXPONENT = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "UGX": 0, "XAF": 0, "XOF": 0,
            "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}

# ISO 4217 codes that are not money a buyer pays a shop in (ISO lists them beside the national
# currencies): refused at placement. The X-codes that are legal tender (XAF, XOF, XCD, XPF)
# are national currencies and stay allowed.
NOT_SHOP_CURRENCIES = {
    "XTS": "the ISO code reserved for testing", "XXX": "the ISO code for 'no currency'",
    **dict.fromkeys(("XAU", "XAG", "XPT", "XPD"), "a precious metal"),
    **dict.fromkeys(("XDR", "XSU", "XUA", "XBA", "XBB", "XBC", "XBD"), "a unit of account"),
    **dict.fromkeys(("BOV", "CHE", "CHW", "CLF", "COU", "MXV", "USN", "UYI", "UYW"),
                    "a fund code (a unit for funds transfers, not a currency)"),
}


def exponent(currency: str) -> int:
    """How many decimals `currency`'s amounts have (ISO 4217's minor unit): JPY 0, CNY 2, KWD 3."""
    return EXPONENT.get(currency, 2)


def not_shop_currency(code: str) -> str | None:
    """Why `code`, an ISO 4217 code, is not a currency a shop charges in (None if it is)."""
    what = NOT_SHOP_CURRENCIES.get(code)
    return None if what is None else (f"{code} is {what}, not a currency a shop charges in; "
                                      "expected a national currency's code, e.g. CNY")


# Above any amount a shop can charge (10^18 minor units is the edge of a 64-bit column); a
# larger written amount ("1e999999", a 5,000-digit run) is refused before it is multiplied out
MAX_DIGITS = 16  # of the major units


def minor(amount: Any, currency: str, field: str) -> int:
    """`"19.99"` CNY → 1999; more decimals than the currency has, or not a number, is bad."""
    places = exponent(currency)
    try:
        number = Decimal(str(amount).strip())
    except InvalidOperation:
        raise InvalidInput({field: f"expected a decimal amount (got {amount!r})"}) from None
    if number.is_finite() and number and number.adjusted() >= MAX_DIGITS:
        raise InvalidInput({field: f"expected an amount below 10^{MAX_DIGITS} {currency} "
                                   f"(got {_short(amount)})"})
    # a fraction of a minor unit however small (1e-999999999 would round to 0 when scaled)
    fraction = number.is_finite() and number and number.adjusted() < -places
    value = number.scaleb(places) if number.is_finite() and not fraction else None
    if value is None or value != value.to_integral_value() or value < 0:
        raise InvalidInput({field: f"{_short(amount)} is not a whole number of {currency} "
                                   f"minor units"})
    return int(value)


def _short(amount: Any) -> str:
    text = str(amount)
    return text if len(text) <= 40 else f"{text[:30]}… ({len(text)} characters)"


def shown(minor: int, currency: str) -> str:
    """Minor units as a person reads them: 699900 CNY → "¥6,999.00", 1250 USD → "USD 12.50",
    1001 JPY → "JPY 1,001" (staff pages, CLI, refusals and buyer notices alike)."""
    places = exponent(currency)
    sign = "-" if minor < 0 else ""
    major = f"{Decimal(abs(minor)).scaleb(-places):,.{places}f}"
    return f"{sign}¥{major}" if currency == "CNY" else f"{sign}{currency} {major}"


def split_total(sku: str, quantity: int, total: int) -> list[dict[str, Any]]:
    """A line's total over its quantity: one line, or two of the same sku one minor unit
    apart when it does not divide evenly (the lines add up to exactly `total`)."""
    unit, rest = divmod(total, quantity)
    lines = []
    if quantity - rest:
        lines.append({"sku": sku, "quantity": quantity - rest, "unit_price": unit})
    if rest:
        lines.append({"sku": sku, "quantity": rest, "unit_price": unit + 1})
    return lines
