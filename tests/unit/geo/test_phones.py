"""Phones are validated and normalised to E.164 with phonenumbers."""

from __future__ import annotations

import pytest

from integrations.geo.phones import parse_phone
from statemachine.errors import InvalidInput


@pytest.mark.parametrize(("raw", "e164"), [
    ("13800138000", "+8613800138000"),
    ("+86 138-0013-8000", "+8613800138000"),
    ("(+86) 138 0013 8000", "+8613800138000"),
    ("+44 20 7946 0000", "+442079460000"),
    ("0571-8888 8888", "+8657188888888"),  # a 杭州 landline
    ("0571-8888 8888-123", "+8657188888888"),  # with an office extension, as buyers write it
    ("0571-88888888转123", "+8657188888888"),
    ("010-6552 9988 分机 8", "+861065529988"),
    ("0571-88888888 ext 123", "+8657188888888"),
])
def test_phones_in_any_common_spelling_become_e164(raw, e164):
    assert parse_phone(raw).e164 == e164


@pytest.mark.parametrize("raw", ["138", "12345", "not a phone", "+86 100 0000 0000",
                                 "138-123", "0571-888转123"])
def test_a_number_that_is_not_a_phone_is_refused_naming_the_field(raw):
    with pytest.raises(InvalidInput) as error:
        parse_phone(raw, "shipping_address.phone")
    assert "shipping_address.phone" in error.value.problems
