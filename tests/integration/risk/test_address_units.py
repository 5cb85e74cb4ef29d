"""A blocked address blocks its floor however the floor is written (3楼, 3层, 3F), and its unit
only: 3-502 (building 3, room 502) is not 35-02."""

from __future__ import annotations

from orderpilot import OrderPilot
from tests.factories import placed_order, stock


def test_blocking_an_address_on_one_floor_blocks_it_written_with_another_floor_word(
        any_url, clock):
    # Given 文三路18号B座3楼 on the block list
    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot)
    pilot.risk.blacklist_add("address", "浙江省杭州市西湖区文三路18号B座3楼", by="mei",
                             reason="ring")
    # When buyers order to the same floor written 3F and 3层
    orders = [placed_order(pilot, buyer=f"b-{n}", quantity=1,
                           shipping_address={"line": f"浙江省杭州市西湖区文三路18号B座{floor}"})
              for n, floor in enumerate(("3F", "３层"))]
    # Then both are blocked (before: both passed, keyed b座3f and b座3层)
    assert [o.state for o in orders] == ["rejected", "rejected"]
    pilot.close()


def test_blocking_building_3_room_502_leaves_building_35_room_02_alone(any_url, clock):
    # Given 文三路18号3-502 on the block list
    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot)
    pilot.risk.blacklist_add("address", "浙江省杭州市西湖区文三路18号3-502", by="mei",
                             reason="ring")
    # When buyers order to 35-02 and to 3－502 (a full-width dash)
    other = placed_order(pilot, buyer="b-1", quantity=1,
                         shipping_address={"line": "浙江省杭州市西湖区文三路18号35-02"})
    again = placed_order(pilot, buyer="b-2", quantity=1,
                         shipping_address={"line": "浙江省杭州市西湖区文三路18号3－502"})
    # Then only the listed unit is blocked (before: 35-02 was rejected too, both keyed 3502)
    assert (other.state, again.state) == ("awaiting_payment", "rejected")
    pilot.close()


def test_a_room_written_in_brackets_or_chinese_numerals_is_that_room(any_url, clock):
    # Given room 3-502 of 文三路18号 blocked, typed with the room in brackets
    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot)
    pilot.risk.blacklist_add("address", "浙江省杭州市西湖区文三路18号（3-502）", by="mei",
                             reason="ring")
    # When buyers order to that room written plainly and in Chinese numerals, and to another
    # room of the same building
    placed = [placed_order(pilot, buyer=f"b-{n}", quantity=1,
                           shipping_address={"line": f"浙江省杭州市西湖区文三路18号{unit}"})
              for n, unit in enumerate(("3-502", "三-五〇二", "35-02"))]
    # Then the room is blocked however written, and only the room (before: the bracket was a
    # courier's note, so the entry was keyed as No. 18 itself and all three passed)
    assert [o.state for o in placed] == ["rejected", "rejected", "awaiting_payment"]
    pilot.close()


def test_blocking_a_tower_blocks_it_written_as_a_building_but_not_a_wing(any_url, clock):
    # Given tower B of 文三路18号, room 1203, on the block list
    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot)
    pilot.risk.blacklist_add("address", "浙江省杭州市西湖区文三路18号B座1203", by="mei",
                             reason="ring")
    # When buyers (on their own +86 mobiles) order to it written B栋1203室, and to wing B of
    # building 3 of the same number
    placed = [placed_order(pilot, buyer=f"b-{n}", quantity=1, phone=f"+86 139 0571 000{n}",
                           shipping_address={"line": f"浙江省杭州市西湖区文三路18号{unit}"})
              for n, unit in enumerate(("B栋1203室", "3栋B座1203"))]
    # Then the same tower is blocked (before: it passed, keyed b栋1203 apart from b座1203),
    # the wing of building 3 is not
    assert [o.state for o in placed] == ["rejected", "awaiting_payment"]
    pilot.close()


def test_blocking_an_address_blocks_it_with_its_compound_written_anywhere(any_url, clock):
    # Given a flat of 张杨路500弄3号 on the block list, its compound written before the road
    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot)
    pilot.risk.blacklist_add("address", "上海市浦东新区阳光花园张杨路500弄3号601室", by="mei",
                             reason="ring")
    # When buyers order to it with the compound after the house number, and without it
    placed = [placed_order(pilot, buyer=f"b-{n}", quantity=1, phone=f"+86 139 0571 000{n}",
                           shipping_address={"line": f"上海市浦东新区{line}"})
              for n, line in enumerate(("张杨路500弄3号阳光花园601室", "张杨路500弄3号601室"))]
    # Then both are blocked (before: both passed, keyed on 张杨路 apart from 阳光花园张杨路)
    assert [o.state for o in placed] == ["rejected", "rejected"]
    pilot.close()
