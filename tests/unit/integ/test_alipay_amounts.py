"""Alipay's amount strings (major units of the trade's currency) to minor units: exact, or
refused naming the field — never rounded."""

from __future__ import annotations

import pytest

from integrations.payments.alipay_gateway import BadAmount, amount_text, minor_units
from statemachine.ports import PermanentPaymentError


@pytest.mark.parametrize(("text", "expected"), [("88.88", 8888), ("88.8", 8880), ("88", 8800),
                                                ("0.01", 1), ("0", 0)])
def test_an_amount_with_at_most_two_decimals_is_read_exactly(text, expected):
    assert minor_units(text, "total_amount") == expected
    assert minor_units(amount_text(expected)) == expected


@pytest.mark.parametrize("text", ["88.888", "88.885", "", " 88.88", "88.", ".5", "-1", "+1",
                                  "1e3", "NaN", "Infinity", "八十八", "８８.８８", None])
def test_anything_else_is_refused_naming_the_field_and_what_it_held(text):
    with pytest.raises(BadAmount) as refused:
        minor_units(text, "refund_amount")
    assert refused.value.field == "refund_amount"
    assert f"alipay refund_amount {text!r} is not an amount in yuan" in str(refused.value)
    assert isinstance(refused.value, PermanentPaymentError)  # a gateway call stops, not retried


@pytest.mark.parametrize(("text", "currency", "expected"), [
    ("1000", "JPY", 1000), ("50000", "KRW", 50000), ("1.234", "KWD", 1234), ("1.2", "KWD", 1200),
    ("12.5", "USD", 1250)])
def test_a_cross_border_amount_is_read_with_its_currencys_decimals(text, currency, expected):
    # yen and won have no minor unit: "1000" is ¥1000, not ¥100,000 (before: read as yuan)
    assert minor_units(text, "total_amount", currency) == expected
    assert amount_text(expected, currency) in (text, text + "0", text + "00")


@pytest.mark.parametrize(("text", "currency"), [("1000.00", "JPY"), ("1000.5", "KRW"),
                                                 ("1.2345", "KWD")])
def test_more_decimals_than_the_currency_has_are_refused_naming_it(text, currency):
    with pytest.raises(BadAmount) as refused:
        minor_units(text, "refund_fee", currency)
    assert f"alipay refund_fee {text!r} is not an amount in {currency}" in str(refused.value)


def test_a_refund_in_yen_is_written_without_decimals():
    assert (amount_text(1000, "JPY"), amount_text(8888), amount_text(1234, "KWD")) == (
        "1000", "88.88", "1.234")
