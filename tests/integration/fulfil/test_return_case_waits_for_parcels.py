"""A return case is received when none of its return parcels is still on its way: each one
arrived, or was lost (its claim refunded its goods). Before, the first parcel delivered made the
case `received`; inspecting it then put on the shelf the units of a second parcel still with
the carrier (stock showed goods that never arrived), and that parcel's later loss was refused
("no sold goods left on this parcel")."""

from __future__ import annotations

import pytest

from statemachine.errors import InvalidTransition
from tests.integration.fulfil.test_case_replacement_goods import PRICE, shipped_split_order
from tests.integration.fulfil.test_return_case_amount_due import arrives, return_sent


def all_three_on_their_way_back(shop):
    """A split order (WH-A 2 tees, WH-C 1) delivered; all 3 returned in two parcels."""
    order, parcels = shipped_split_order(shop)
    for parcel in parcels:
        arrives(shop, parcel.id)
    case_id, (back_a, back_c) = return_sent(shop, order.id, [{"line_no": 1, "quantity": 3}])
    assert (back_a.warehouse, back_c.warehouse) == ("WH-A", "WH-C")
    return order, case_id, back_a, back_c


def on_hand(shop) -> list[int]:
    return [shop.inventory.level(sku="SKU-TEE", warehouse=wh).on_hand for wh in ("WH-A", "WH-C")]


def test_a_return_case_waits_for_its_other_parcel_and_is_received_when_that_one_is_lost(shop):
    # Given all 3 tees on their way back, WH-A's parcel delivered to us first
    order, case_id, back_a, back_c = all_three_on_their_way_back(shop)
    arrives(shop, back_a.id)
    # Then the case still awaits WH-C's parcel: nothing can be inspected yet
    assert shop.cases.get(case_id).state == "awaiting_return"
    with pytest.raises(InvalidTransition):
        shop.cases.fire(case_id, "inspect", result="ok", notes="吊牌完好", actor="wh-zhao")
    # When WH-C's parcel is lost
    claim = shop.claims.report_lost(back_c.id, reason="顺丰确认退货丢件")
    # Then its tee is refunded and claimed, and the case is received with WH-A's goods
    assert (claim["goods_value"], claim["compensated"]) == (PRICE, PRICE)
    assert shop.cases.get(case_id).state == "received"
    # And inspection restocks only what arrived; the refund pays the rest of what was paid
    shop.cases.fire(case_id, "inspect", result="ok", notes="吊牌完好", actor="wh-zhao")
    assert on_hand(shop) == [2, 0]
    assert shop.cases.fire(case_id, "refund").refunded == 2 * PRICE
    assert shop.orders.get(order.id).refunded == 3 * PRICE
    assert shop.inventory.reconcile() == []


def test_a_return_case_is_received_when_its_last_parcel_arrives(shop):
    # Given all 3 tees on their way back, WH-C's parcel delivered first
    order, case_id, back_a, back_c = all_three_on_their_way_back(shop)
    arrives(shop, back_c.id)
    assert shop.cases.get(case_id).state == "awaiting_return"
    # When WH-A's parcel arrives too
    arrives(shop, back_a.id)
    # Then the case is received, and inspection puts all 3 back where they came from
    assert shop.cases.get(case_id).state == "received"
    shop.cases.fire(case_id, "inspect", result="ok", notes="包装完好", actor="wh-zhao")
    assert on_hand(shop) == [2, 1]
    assert shop.cases.fire(case_id, "refund").refunded == 3 * PRICE
    assert shop.inventory.reconcile() == []
