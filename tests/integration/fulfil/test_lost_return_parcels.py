"""A return label's parcel carries exactly the units its case takes back: its loss refunds those
and nothing the buyer kept, and its arrival restocks those. Before, a return parcel carried no
units of its own, so its loss settled every untagged sold unit of its warehouse (a ¥129 return
of one mug of two refunded ¥258)."""

from __future__ import annotations

from tests.factories import order_request, stock
from tests.integration.fulfil.test_case_replacement_goods import (
    HANGZHOU,
    PRICE,
    shipped_split_order,
)


def delivered_order(shop, quantity: int = 2):
    """`quantity` mugs at ¥129 from WH-A, paid, shipped and delivered in one parcel."""
    stock(shop, "SKU-MUG", "WH-A", quantity)
    order = shop.orders.place(**order_request(sku="SKU-MUG", quantity=quantity,
                                              unit_price=PRICE,
                                              shipping_address=dict(HANGZHOU)))
    shop.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"alipay-{order.id}")
    for trigger in ("start_picking", "pack", "ship"):
        shop.orders.fire(order.id, trigger)
    [parcel] = shop.shipments.of_order(order.id)
    for trigger in ("pick_up", "scan", "deliver"):
        shop.shipments.fire(parcel.id, trigger)
    assert shop.orders.get(order.id).state == "delivered"
    return order


def return_sent(shop, order_id: str, quantity: int = 1) -> tuple[str, list]:
    """The buyer opens a return of `quantity` units of line 1 and hands it to the carrier."""
    case = shop.cases.open(order_id, kind="return_refund", reason="七天无理由退货",
                           lines=[{"line_no": 1, "quantity": quantity}])
    for trigger in ("auto_approve", "await_return"):
        shop.cases.fire(case.id, trigger)
    parcels = sorted((s for s in shop.shipments.of_order(order_id) if s.case_id == case.id),
                     key=lambda s: s.warehouse)
    for parcel in parcels:
        shop.shipments.fire(parcel.id, "pick_up", location="杭州转运中心")
    return case.id, parcels


def test_a_lost_return_parcel_refunds_the_returned_unit_not_the_one_the_buyer_kept(shop):
    # Given 2 mugs at ¥129 delivered, and a return of 1 of them on its way back
    order = delivered_order(shop)
    case_id, [back] = return_sent(shop, order.id)
    # When the carrier loses the return parcel
    claim = shop.claims.report_lost(back.id, reason="中通确认退货丢件")
    # Then the returned mug is refunded (never reshipped: it is the buyer's return) and claimed
    assert (claim["goods_value"], claim["compensated"], claim["compensation"]) == (12_900, 12_900,
                                                                          "refund")
    assert shop.orders.get(order.id).refunded == 12_900
    # And the case is settled by that refund: closed, it cannot refund the mug again
    assert shop.cases.get(case_id).state == "closed"
    assert shop.fulfilment.ledger()["shipped"] == 2 and shop.inventory.reconcile() == []


def test_a_return_from_two_warehouses_losing_one_parcel_refunds_that_parcels_units(shop):
    # Given a split order (WH-A 2 units, WH-C 1) delivered, and all 3 returned: two parcels back
    order, parcels = shipped_split_order(shop)
    for parcel in parcels:
        for trigger in ("scan", "deliver"):
            shop.shipments.fire(parcel.id, trigger)
    case_id, (back_a, back_c) = return_sent(shop, order.id, quantity=3)
    assert (back_a.warehouse, back_c.warehouse) == ("WH-A", "WH-C")
    # When WH-C's return parcel is lost
    claim = shop.claims.report_lost(back_c.id, reason="顺丰确认丢件")
    # Then only its one unit is refunded, and the case waits for WH-A's parcel
    assert (claim["goods_value"], claim["compensated"]) == (12_900, 12_900)
    assert shop.cases.get(case_id).state == "awaiting_return"
    # When WH-A's parcel arrives and is inspected
    shop.shipments.fire(back_a.id, "scan")
    shop.shipments.fire(back_a.id, "deliver")
    shop.cases.fire(case_id, "inspect", result="ok", notes="包装完好", actor="wh-zhao")
    # Then WH-A gets its 2 units back, WH-C none (its unit is lost)
    levels = [shop.inventory.level(sku="SKU-TEE", warehouse=wh).on_hand
              for wh in ("WH-A", "WH-C")]
    assert levels == [2, 0]
    # And the case refunds what came back, not the lost unit again: ¥387 paid back in all
    shop.cases.fire(case_id, "refund", amount=2 * PRICE)
    after = shop.orders.get(order.id)
    assert (after.refunded, after.paid) == (3 * PRICE, 3 * PRICE)
    assert shop.inventory.reconcile() == []


def test_a_return_parcel_received_after_another_case_restocks_exactly_its_units(shop):
    # Given a split order (WH-A 2 units, WH-C 1) delivered
    order, parcels = shipped_split_order(shop)
    for parcel in parcels:
        for trigger in ("scan", "deliver"):
            shop.shipments.fire(parcel.id, trigger)
    # And a first return of 1 unit on its way back (WH-A's)
    first, [back] = return_sent(shop, order.id)
    assert back.warehouse == "WH-A"
    # And a second case that took 1 unit back meanwhile, received and inspected
    second, _ = return_sent(shop, order.id)
    shop.cases.fire(second, "receive")
    shop.cases.fire(second, "inspect", result="ok", notes="吊牌完好", actor="wh-zhao")
    # When the first return parcel is delivered to us and inspected
    shop.shipments.fire(back.id, "scan")
    shop.shipments.fire(back.id, "deliver")
    assert shop.cases.get(first).state == "received"
    shop.cases.fire(first, "inspect", result="ok", notes="吊牌完好", actor="wh-zhao")
    # Then both WH-A units are back on the shelf: the first return's and the second case's
    levels = [shop.inventory.level(sku="SKU-TEE", warehouse=wh).on_hand
              for wh in ("WH-A", "WH-C")]
    assert levels == [2, 0]
    # And the buyer's last unit, WH-C's, is still sold: a third return carries it alone
    _, [last] = return_sent(shop, order.id)
    assert last.warehouse == "WH-C"
    assert shop.claims.report_lost(last.id, reason="丢件")["goods_value"] == PRICE
    assert shop.inventory.reconcile() == []
