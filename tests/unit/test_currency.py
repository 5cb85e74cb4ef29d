"""Amounts as exports and providers write them → integer minor units, or InvalidInput naming
the field: never an arithmetic error, whatever the text."""

from __future__ import annotations

import pytest

from statemachine.currency import minor
from statemachine.errors import InvalidInput


@pytest.mark.parametrize(("amount", "fen"), [
    ("19.99", 1999), (" 79.80 ", 7980), ("0.01", 1), ("１２３", 12300), ("1e3", 100_000),
    ("9999999999999999", 999_999_999_999_999_900), ("0E-1000000000", 0),
])
def test_decimal_major_units_become_fen(amount, fen):
    assert minor(amount, "CNY", "price") == fen


@pytest.mark.parametrize(("amount", "expected"), [
    ("1e999999", "below 10^16"),          # decimal.Overflow before
    ("9" * 5000, "below 10^16"),          # int(): "Exceeds the limit (4300 digits)" before
    ("-1e999999", "below 10^16"),
    ("1e-999999999", "not a whole number"),  # scaled to 0 fen before: a price of nothing
    ("0.001", "not a whole number"), ("-1", "not a whole number"),
    ("NaN", "not a whole number"), ("sNaN", "not a whole number"),
    ("Infinity", "not a whole number"), ("¥12.30", "expected a decimal amount"),
])
def test_an_amount_that_is_no_whole_number_of_fen_is_refused_naming_the_field(amount, expected):
    with pytest.raises(InvalidInput) as refused:
        minor(amount, "CNY", "lines[0].unit_price")
    assert expected in refused.value.problems["lines[0].unit_price"]
    assert len(str(refused.value)) < 200  # a 5,000-digit amount is not echoed whole
