"""Alipay's amount strings (yuan) to fen: exact, or refused naming the field — never rounded."""

from __future__ import annotations

import pytest

from integrations.payments.alipay_gateway import BadAmount, fen, yuan
from statemachine.ports import PermanentPaymentError


@pytest.mark.parametrize(("text", "expected"), [("88.88", 8888), ("88.8", 8880), ("88", 8800),
                                                ("0.01", 1), ("0", 0)])
def test_an_amount_with_at_most_two_decimals_is_read_exactly(text, expected):
    assert fen(text, "total_amount") == expected
    assert fen(yuan(expected)) == expected


@pytest.mark.parametrize("text", ["88.888", "88.885", "", " 88.88", "88.", ".5", "-1", "+1",
                                  "1e3", "NaN", "Infinity", "八十八", "８８.８８", None])
def test_anything_else_is_refused_naming_the_field_and_what_it_held(text):
    with pytest.raises(BadAmount) as refused:
        fen(text, "refund_amount")
    assert refused.value.field == "refund_amount"
    assert f"alipay refund_amount {text!r} is not an amount in yuan" in str(refused.value)
    assert isinstance(refused.value, PermanentPaymentError)  # a gateway call stops, not retried
