"""Every public id has one spelling, the one the codec writes: `o-01` is not o-1."""

from __future__ import annotations

import pytest

from statemachine import ids
from statemachine.errors import InvalidInput


@pytest.mark.parametrize("codec", list(ids.BY_PREFIX.values()), ids=lambda c: c.prefix)
def test_each_codec_reads_back_what_it_writes_and_nothing_else(codec):
    for number in (0, 1, 10, 42, 10**17, 10**18 - 1):
        assert codec.parse(codec(number)) == number
    for spelling in ("01", "007", "00", "0042", "1" * 19, "١", "+1", " 1", "1 "):
        with pytest.raises(InvalidInput) as refused:
            codec.parse(f"{codec.prefix}-{spelling}", "ref")
        assert "no leading zero" in refused.value.problems["ref"]


def test_a_leading_zero_is_refused_naming_the_field_not_read_as_another_order():
    # before: o-01 was read as order 1
    with pytest.raises(InvalidInput) as refused:
        ids.ORDER.parse("o-01")
    assert refused.value.problems == {"order_id": "expected an id like o-123 (ASCII digits, "
                                                  "no leading zero; got 'o-01')"}
