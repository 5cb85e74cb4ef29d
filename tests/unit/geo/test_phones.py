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
])
def test_phones_in_any_common_spelling_become_e164(raw, e164):
    assert parse_phone(raw).e164 == e164


@pytest.mark.parametrize(("raw", "virtual"), [
    ("17012345678", True), ("17112345678", True), ("16212345678", True),
    ("16512345678", True), ("16712345678", True), ("13812345678", False),
    ("+442079460000", False),
])
def test_virtual_operator_segments_are_recognised(raw, virtual):
    assert parse_phone(raw).virtual is virtual


@pytest.mark.parametrize("raw", ["138", "12345", "not a phone", "+86 100 0000 0000"])
def test_a_number_that_is_not_a_phone_is_refused_naming_the_field(raw):
    with pytest.raises(InvalidInput) as error:
        parse_phone(raw, "shipping_address.phone")
    assert "shipping_address.phone" in error.value.problems
