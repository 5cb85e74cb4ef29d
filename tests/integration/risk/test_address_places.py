"""Where an address is: a road named after a district is not in that district unless the
district is written; Kowloon (九龙) and the New Territories (新界) are Hong Kong without its name;
a development zone named after its city is found with or without 市 between (2026-11-29)."""

from __future__ import annotations

from orderpilot import OrderPilot
from tests.factories import placed_order, stock


def _to(line: str, n: int) -> dict:
    """An order's address as a shop sends it, with the buyer's mainland mobile."""
    return {"line": line, "recipient": "王芳", "phone": f"+86 138 0013 800{n}"}


def _place(pilot: OrderPilot, n: int, line: str):
    return placed_order(pilot, buyer=f"b-{n}", quantity=1, shipping_address=_to(line, n),
                        phone=f"+86 138 0013 800{n}")


def test_an_order_to_a_road_named_after_a_district_is_held_as_an_address_without_one(
        any_url, clock):
    # Given a shop with stock
    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot)
    # When a buyer orders to 西湖大道 in Hangzhou (it lies in 上城区), no district written, and
    # another to the same road with its district
    bare = _place(pilot, 1, "浙江省杭州市西湖大道1号")
    written = _place(pilot, 2, "浙江省杭州市上城区西湖大道1号")
    # Then the first is held as vague, its district unknown (before: placed as an address in
    # 西湖区, the district whose name the road starts with), the second is placed
    assert (bare.state, written.state) == ("under_review", "awaiting_payment")
    assert [(r["rule"], r["values"]) for r in bare.risk["reasons"]] == [
        ("vague_address", {"vague": ["no_district"], "region_code": "330100"})]
    pilot.close()


def test_blocking_a_kowloon_address_blocks_it_written_without_hong_kong(any_url, clock):
    # Given 香港九龙弥敦道1号 on the block list, as a reviewer typed it
    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot)
    pilot.risk.blacklist_add("address", "香港九龙弥敦道1号", by="mei", reason="ring")
    # When a buyer orders to 九龙弥敦道1号 (no 香港)
    order = _place(pilot, 1, "九龙弥敦道1号")
    # Then it is blocked (before: held as vague, no region found at all, and not blocked)
    assert order.state == "rejected"
    pilot.close()


def test_blocking_an_address_in_suzhou_industrial_park_blocks_it_written_with_shi(
        any_url, clock):
    # Given 苏州工业园区星湖街328号 on the block list
    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot)
    pilot.risk.blacklist_add("address", "江苏省苏州工业园区星湖街328号", by="mei", reason="ring")
    # When a buyer orders to it written 苏州市工业园区
    order = _place(pilot, 1, "江苏省苏州市工业园区星湖街328号")
    # Then it is blocked (before: keyed in 苏州市 on 工业园区星湖街, held as vague, not blocked)
    assert order.state == "rejected"
    pilot.close()
