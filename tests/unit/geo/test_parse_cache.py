"""Parses kept by what they read (`parse_address`, `parse_phone`): a returning buyer's saved
address is not parsed again, and keeping it changes no answer."""

from __future__ import annotations

import pytest

from integrations.geo import addresses, phones
from integrations.geo.addresses import parse_address
from integrations.geo.phones import parse_phone
from statemachine.errors import InvalidInput
from tests.unit.geo.test_addresses import ROWS, as_given

BUYER = {"recipient": "张伟", "phone": "+8613800138000"}


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row["text"] or row["street_in"])
def test_a_kept_parse_is_the_parse(row):
    # Given an address of the corpus, as a shop sends it with a recipient and a phone
    sent = {**as_given(row), **BUYER}
    # When it is parsed, then sent again by another buyer of the same household
    first = parse_address(sent)
    again = parse_address({**as_given(row), "recipient": "王芳", "phone": "+8613900139000"})
    # Then the second is the kept answer, and both are what a parse without keeping gives
    unkept = addresses._parsed.__wrapped__(
        "shipping_address", *(str(sent.get(k) or "") for k in addresses._READ))
    assert again is first
    assert first == unkept and first.key == unkept.key


def test_what_the_parse_reads_tells_kept_parses_apart():
    line = {"line": "杭州市西湖区文三路18号"}
    # the postcode is part of the answer
    assert parse_address({**line, "postal_code": "310012"}).postcode == "310012"
    assert parse_address(line).postcode is None
    # a missing key, None and "" read alike
    assert parse_address({**line, "postal_code": None}) is parse_address(line)
    assert parse_address({**line, "postal_code": ""}) is parse_address(line)
    # the field an error names is the caller's
    with pytest.raises(InvalidInput) as first:
        parse_address({"province": "浙江省", "city": "杭州市"}, field="shipping_address")
    with pytest.raises(InvalidInput) as second:
        parse_address({"province": "浙江省", "city": "杭州市"}, field="address")
    assert list(first.value.problems) == ["shipping_address.street"]
    assert list(second.value.problems) == ["address.street"]


def test_a_refused_address_or_phone_is_refused_every_time():
    for _ in range(2):
        with pytest.raises(InvalidInput) as error:
            parse_address({"line": "   "})
        assert list(error.value.problems) == ["shipping_address.street"]
        with pytest.raises(InvalidInput) as error:
            parse_phone("12345", "shipping_address.phone")
        assert list(error.value.problems) == ["shipping_address.phone"]


def test_a_kept_phone_is_the_phone():
    assert parse_phone("138 0013 8000") is parse_phone("138 0013 8000")
    assert parse_phone("138 0013 8000") == phones.parse_phone.__wrapped__("138 0013 8000")
    assert parse_phone("0571-8888 8888-123").e164 == "+8657188888888"
