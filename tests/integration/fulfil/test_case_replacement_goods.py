"""An exchange's replacement parcel carries its own goods: a parcel of the same order and
warehouse that is later lost or comes back settles its own units, not the replacement's, and the
replacement's loss settles the replacement's units, not the goods the buyer kept."""

from __future__ import annotations

from tests.factories import order_request, stock

HANGZHOU = {"street": "浙江省杭州市西湖区文三路18号", "city": "杭州市", "recipient": "李雷",
            "phone": "+86 138 0013 8000"}
PRICE = 12_900  # ¥129.00 a unit (under the shop's double check at ¥500)


def shipped_split_order(shop):
    """3 × ¥129 paid and shipped from WH-A (2 units) and WH-C (1 unit), both parcels moving."""
    stock(shop, "SKU-TEE", "WH-A", 2)
    stock(shop, "SKU-TEE", "WH-C", 1)
    order = shop.orders.place(**order_request(sku="SKU-TEE", quantity=3, unit_price=PRICE,
                                              shipping_address=dict(HANGZHOU)))
    shop.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"alipay-{order.id}")
    for trigger in ("start_picking", "pack", "ship"):
        shop.orders.fire(order.id, trigger)
    parcels = sorted(shop.shipments.of_order(order.id), key=lambda p: p.warehouse)
    for parcel in parcels:
        shop.shipments.fire(parcel.id, "pick_up", location="杭州转运中心")
    return order, parcels


def exchange_one(shop, order_id: str, reason: str = "尺码偏小, 换一件") -> str:
    """The buyer exchanges one unit; it comes back fine and its replacement ships."""
    case = shop.cases.open(order_id, kind="exchange", reason=reason,
                           lines=[{"line_no": 1, "quantity": 1}])
    for trigger in ("auto_approve", "await_return", "receive"):
        shop.cases.fire(case.id, trigger)
    shop.cases.fire(case.id, "inspect", result="ok", notes="吊牌完好")
    shop.cases.fire(case.id, "exchange", actor="wh-zhang")
    [replacement] = [s for s in shop.shipments.of_order(order_id) if s.purpose == "replacement"]
    return replacement.id


def test_a_lost_parcel_does_not_settle_an_exchange_replacement_from_its_warehouse(shop):
    # Given a split order whose WH-A parcel is delivered and whose WH-C parcel is on its way
    order, (wh_a, wh_c) = shipped_split_order(shop)
    assert (wh_a.warehouse, wh_c.warehouse) == ("WH-A", "WH-C")
    for trigger in ("scan", "deliver"):
        shop.shipments.fire(wh_a.id, trigger)
    # And one WH-A unit exchanged, the replacement leaving from WH-C (the only stock left)
    stock(shop, "SKU-TEE", "WH-C", 1)
    replacement = exchange_one(shop, order.id)
    assert shop.shipments.get(replacement).warehouse == "WH-C"
    # When WH-C's own parcel is lost and refunded
    claim = shop.claims.report_lost(wh_c.id, reason="快递员确认丢失", settle="refund")
    # Then only its one unit is refunded and claimed, not the replacement on its way
    assert (claim["goods_value"], claim["compensated"]) == (PRICE, PRICE)
    assert shop.orders.get(order.id).refunded == PRICE
    # When the replacement is lost too, its own unit is refunded
    shop.shipments.fire(replacement, "pick_up", location="杭州转运中心")
    claim = shop.claims.report_lost(replacement, reason="中转丢件", settle="refund")
    assert (claim["goods_value"], claim["compensated"]) == (PRICE, PRICE)
    assert shop.orders.get(order.id).refunded == 2 * PRICE
    assert shop.inventory.reconcile() == []


def test_a_returned_parcel_restocks_its_own_units_not_an_exchange_replacements(shop):
    # Given the same split order, WH-A's parcel delivered and one of its units exchanged
    # from WH-C while WH-C's own parcel is still on its way
    order, (wh_a, wh_c) = shipped_split_order(shop)
    for trigger in ("scan", "deliver"):
        shop.shipments.fire(wh_a.id, trigger)
    stock(shop, "SKU-TEE", "WH-C", 1)
    exchange_one(shop, order.id)
    # When the carrier returns WH-C's own parcel and it arrives intact
    shop.shipments.fire(wh_c.id, "return_to_sender", reason="收件人拒收")
    claim = shop.claims.receive_return(wh_c.id, result="ok", settle="refund")
    # Then its one unit is back on the shelf and refunded; the replacement is still sold
    assert (claim["goods_value"], claim["compensated"]) == (PRICE, PRICE)
    assert shop.inventory.level(sku="SKU-TEE", warehouse="WH-C").on_hand == 1
    assert shop.inventory.reconcile() == []


def test_a_lost_replacement_settles_its_own_unit_not_the_ones_the_buyer_kept(shop):
    # Given 2 × ¥129 delivered from WH-A and one of them exchanged from WH-A too
    stock(shop, "SKU-TEE", "WH-A", 3)
    order = shop.orders.place(**order_request(sku="SKU-TEE", quantity=2, unit_price=PRICE,
                                              shipping_address=dict(HANGZHOU)))
    shop.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"alipay-{order.id}")
    for trigger in ("start_picking", "pack", "ship"):
        shop.orders.fire(order.id, trigger)
    [parcel] = shop.shipments.of_order(order.id)
    for trigger in ("pick_up", "scan", "deliver"):
        shop.shipments.fire(parcel.id, trigger)
    replacement = exchange_one(shop, order.id, reason="颜色发错")
    # When the replacement is lost
    shop.shipments.fire(replacement, "pick_up", location="杭州转运中心")
    claim = shop.claims.report_lost(replacement, reason="中转丢件", settle="refund")
    # Then its one unit is refunded and claimed, not the unit the buyer kept
    assert (claim["goods_value"], claim["compensated"]) == (PRICE, PRICE)
    assert shop.orders.get(order.id).refunded == PRICE
    assert shop.inventory.reconcile() == []
