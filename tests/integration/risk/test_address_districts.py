"""A blocked Hong Kong or Macau address blocks that address, not the same street and number
in every other district: jionlp codes all of Hong Kong 810000 and all of Macau 820000, so the
district has to stay in the key (at the head of the street, as Taiwan's does)."""

from __future__ import annotations

from orderpilot import OrderPilot
from tests.factories import placed_order, stock

KOWLOON_CITY = "香港九龙城区太子道西188号"


def test_blocking_an_address_in_one_hong_kong_district_leaves_another_district_alone(
        any_url, clock):
    # Given an address in Kowloon City on the block list, as a reviewer typed it
    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot)
    pilot.risk.blacklist_add("address", KOWLOON_CITY, by="mei", reason="ring")
    # When a buyer orders to the same street and number in Central and Western
    other = placed_order(pilot, buyer="b-1", quantity=1,
                         shipping_address={"line": "香港中西区太子道西188号"})
    # Then the order is not blocked (before: rejected, both keyed CN|810000|太子道西|188|)
    assert other.state == "awaiting_payment"
    # and the listed address written another way is still blocked
    again = placed_order(pilot, buyer="b-2", quantity=1,
                         shipping_address={"line": "香港特別行政區 九龍城區 太子道西188號"})
    assert again.state == "rejected"
    pilot.close()


def test_blocking_a_house_number_range_leaves_the_number_its_digits_make_alone(any_url, clock):
    # Given 文三路18-20号 on the block list
    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot)
    pilot.risk.blacklist_add("address", "浙江省杭州市西湖区文三路18-20号", by="mei", reason="ring")
    # When buyers order to 文三路1820号 and to the range written with 至
    other = placed_order(pilot, buyer="b-1", quantity=1,
                         shipping_address={"line": "浙江省杭州市西湖区文三路1820号"})
    again = placed_order(pilot, buyer="b-2", quantity=1,
                         shipping_address={"line": "浙江省杭州市西湖区文三路18至20号"})
    # Then only the range is blocked (before: 1820号 was rejected and 18至20号 passed)
    assert (other.state, again.state) == ("awaiting_payment", "rejected")
    pilot.close()
