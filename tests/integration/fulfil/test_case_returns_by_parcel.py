"""An after-sales case takes goods back from the parcels the buyer has: the units of delivered
parcels first, then (a case asking back more than was delivered: the warehouse holds the goods,
so a parcel came without its scan) those of parcels still on their way, in hold order. Before,
it took the line's sold units in id order, whatever parcel carried them: a return of the
delivered goods restocked the warehouse of a parcel still on its way, and that parcel's later
loss found fewer goods, refunding less than was lost."""

from __future__ import annotations

from tests.integration.fulfil.test_case_replacement_goods import PRICE, shipped_split_order


def split_order_wh_c_delivered(shop):
    """3 × ¥129 paid and shipped from WH-A (2 units, its parcel on its way) and WH-C (1 unit,
    delivered)."""
    order, (wh_a, wh_c) = shipped_split_order(shop)
    for trigger in ("scan", "deliver"):
        shop.shipments.fire(wh_c.id, trigger)
    assert shop.orders.get(order.id).state == "shipped"
    return order, wh_a, wh_c


def returned(shop, order_id: str, quantity: int, result: str = "ok") -> None:
    """The buyer sends `quantity` units back; they arrive and are inspected."""
    case = shop.cases.open(order_id, kind="return_refund", reason="七天无理由退货",
                           lines=[{"line_no": 1, "quantity": quantity}])
    for trigger in ("auto_approve", "await_return", "receive"):
        shop.cases.fire(case.id, trigger)
    shop.cases.fire(case.id, "inspect", result=result, notes="吊牌完好", actor="wh-zhao")
    shop.cases.fire(case.id, "refund")


def on_hand(shop, warehouse: str) -> int:
    return shop.inventory.level(sku="SKU-TEE", warehouse=warehouse).on_hand


def test_a_return_of_delivered_goods_restocks_their_warehouse_not_a_parcel_on_its_way(shop):
    # Given a split order whose WH-C parcel is delivered and whose WH-A parcel is on its way
    order, wh_a, _ = split_order_wh_c_delivered(shop)
    # When the buyer returns the delivered unit and it comes back fine
    returned(shop, order.id, 1)
    # Then it is back on WH-C's shelf; WH-A's units are still in their parcel
    assert (on_hand(shop, "WH-A"), on_hand(shop, "WH-C")) == (0, 1)
    # And WH-A's parcel, lost, settles both of its units: everything paid comes back
    claim = shop.claims.report_lost(wh_a.id, reason="中通确认丢件", settle="refund")
    assert (claim["goods_value"], claim["compensated"]) == (2 * PRICE, 2 * PRICE)
    after = shop.orders.get(order.id)
    assert (after.state, after.refunded, after.paid) == ("completed", 3 * PRICE, 3 * PRICE)
    assert shop.inventory.reconcile() == []


def test_damaged_delivered_goods_are_written_off_in_their_own_warehouse(shop):
    # Given the same split order, WH-C's parcel delivered
    order, wh_a, _ = split_order_wh_c_delivered(shop)
    # When the delivered unit comes back damaged
    returned(shop, order.id, 1, result="damaged")
    # Then the write-off names WH-C, and WH-A's parcel still carries its 2 units
    adjustments = shop.fulfilment.adjustments(sku="SKU-TEE")
    assert [(a["warehouse"], a["delta"], a["kind"]) for a in adjustments] == [
        ("WH-C", -1, "return_write_off")]
    claim = shop.claims.report_lost(wh_a.id, reason="中通确认丢件", settle="refund")
    assert claim["goods_value"] == 2 * PRICE


def test_a_case_asking_back_more_than_was_delivered_takes_the_rest_from_parcels_on_their_way(
        shop):
    # Given the same split order, only WH-C's 1 unit delivered
    order, wh_a, _ = split_order_wh_c_delivered(shop)
    # When 2 units come back (the warehouse has them in hand: a parcel came without its scan)
    returned(shop, order.id, 2)
    # Then the delivered unit goes back to WH-C and one unit of WH-A's parcel to WH-A
    assert (on_hand(shop, "WH-A"), on_hand(shop, "WH-C")) == (1, 1)
    # And WH-A's parcel, reported lost after all, settles the one unit it still carries
    claim = shop.claims.report_lost(wh_a.id, reason="中通确认丢件", settle="refund")
    assert (claim["goods_value"], claim["compensated"]) == (PRICE, PRICE)
    assert shop.orders.get(order.id).refunded == 3 * PRICE
    assert shop.inventory.reconcile() == []
