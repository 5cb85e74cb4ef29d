"""Which currency codes a shop may charge in: an ISO 4217 code (pycountry's table) that is
money a buyer pays (statemachine.currency: not XTS, XXX, metals, units of account, fund codes).
One check for orders at every entry (service/inputs.py) and for the settings that give orders a
currency when they carry none (ORDERPILOT_CURRENCY, ORDERPILOT_SHOPIFY__CURRENCY), so an
operator cannot set what a caller may not send."""

from __future__ import annotations

import pycountry

from statemachine.currency import not_shop_currency


def shop_currency_problem(code: str) -> str | None:
    """Why `code` (three capitals) is not a currency a shop charges in; None if it is one."""
    if pycountry.currencies.get(alpha_3=code) is None:
        return "not an ISO 4217 currency code"
    return not_shop_currency(code)


def shop_currency(code: str | None) -> str | None:
    """`code` if a shop may charge in it (None passes: not set); ValueError saying why not (a
    pydantic validator's way to refuse a setting, naming it)."""
    problem = code is not None and shop_currency_problem(code)
    if problem:
        raise ValueError(problem)
    return code
