"""`ship` with labels of your own: every sold unit travels in exactly one parcel. Labels cannot
say which units a box holds, so several parcels leaving one warehouse share its units out in
even blocks, and a warehouse no label names sends its units in the labelled parcel; a lost
parcel then settles its share, never another parcel's goods (before, the first of two parcels
from one warehouse settled both, and the second's loss was refused)."""

from __future__ import annotations

import pytest

from orderpilot import GuardRejected
from tests.factories import order_request, stock

HANGZHOU = {"street": "浙江省杭州市西湖区文三路18号", "city": "杭州市", "recipient": "韩梅梅",
            "phone": "+86 139 0571 2345"}
PRICE = 12_900  # ¥129.00 a unit (under the shop's double check at ¥500)


def shipped_with_labels(shop, quantity: int, labels: list[dict]):
    """`quantity` × ¥129 paid, packed and shipped with `labels` (SF waybills), all moving."""
    order = shop.orders.place(**order_request(sku="SKU-MUG", quantity=quantity,
                                              unit_price=PRICE, shipping_address=dict(HANGZHOU)))
    shop.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"wxpay-{order.id}")
    for trigger in ("start_picking", "pack"):
        shop.orders.fire(order.id, trigger)
    shop.orders.fire(order.id, "ship", actor="packer-wang",
                     parcels=[{"carrier": "SF", "tracking_no": f"SF14{n:08d}", **label}
                              for n, label in enumerate(labels, start=1)])
    parcels = sorted(shop.shipments.of_order(order.id), key=lambda p: p.tracking_no)
    for parcel in parcels:
        shop.shipments.fire(parcel.id, "pick_up", location="杭州萧山集散中心")
    return order, parcels


def test_two_boxes_from_one_warehouse_each_settle_their_own_share(shop):
    # Given 2 mugs from WH-A shipped in two boxes of our own labels
    stock(shop, "SKU-MUG", "WH-A", 2)
    order, (first, second) = shipped_with_labels(shop, 2, [{"warehouse": "WH-A"}, {}])
    assert (first.warehouse, second.warehouse) == ("WH-A", "WH-A")
    # When the first box is lost and refunded
    claim = shop.claims.report_lost(first.id, reason="顺丰确认丢件", settle="refund")
    # Then one mug is refunded and claimed, not the one in the box still on its way
    assert (claim["goods_value"], claim["compensated"]) == (PRICE, PRICE)
    assert shop.orders.get(order.id).state == "shipped"
    # When the second box is lost too, its mug is refunded: everything paid back, once
    claim = shop.claims.report_lost(second.id, reason="顺丰确认丢件", settle="refund")
    assert (claim["goods_value"], claim["compensated"]) == (PRICE, PRICE)
    after = shop.orders.get(order.id)
    assert (after.state, after.refunded, after.paid) == ("completed", 2 * PRICE, 2 * PRICE)
    assert shop.inventory.reconcile() == []


def test_one_label_for_two_warehouses_carries_the_units_of_both(shop):
    # Given 3 mugs sold from WH-A (2) and WH-C (1) and shipped under one label
    stock(shop, "SKU-MUG", "WH-A", 2)
    stock(shop, "SKU-MUG", "WH-C", 1)
    order, [parcel] = shipped_with_labels(shop, 3, [{}])
    # When it is lost and refunded, all 3 mugs are: nothing is left unsettled
    claim = shop.claims.report_lost(parcel.id, reason="顺丰确认丢件", settle="refund")
    assert (claim["goods_value"], claim["compensated"]) == (3 * PRICE, 3 * PRICE)
    after = shop.orders.get(order.id)
    assert (after.state, after.refunded) == ("completed", 3 * PRICE)


def test_a_refused_loss_names_the_state_the_parcel_is_really_in(shop):
    # Given 1 mug shipped under two labels from WH-A: the second box carries nothing sold
    stock(shop, "SKU-MUG", "WH-A", 1)
    order, (first, empty) = shipped_with_labels(shop, 1, [{"warehouse": "WH-A"},
                                                          {"warehouse": "WH-A"}])
    shop.claims.report_lost(first.id, reason="顺丰确认丢件", settle="refund")
    # When the second box is reported lost, it is refused, naming where it really is
    with pytest.raises(GuardRejected, match="no sold goods left on this parcel") as refused:
        shop.claims.report_lost(empty.id, reason="顺丰确认丢件", settle="refund")
    assert refused.value.state == "picked_up"
    assert "cannot claim from picked_up" in str(refused.value)
    assert shop.shipments.get(empty.id).state == "picked_up"


def test_a_silent_parcel_whose_loss_is_refused_does_not_hold_up_the_others(shop, clock, caplog):
    # Given 1 mug shipped in two boxes (the second carries nothing sold) and another order's
    # parcel, all three stalled and silent past the policy
    stock(shop, "SKU-MUG", "WH-A", 2)
    _, (first, empty) = shipped_with_labels(shop, 1, [{"warehouse": "WH-A"},
                                                      {"warehouse": "WH-A"}])
    _, [other] = shipped_with_labels(shop, 1, [{"warehouse": "WH-A",
                                                "tracking_no": "SF1499990001"}])
    for parcel in (first, empty, other):
        shop.shipments.fire(parcel.id, "stall", reason="24 小时无揽收扫描")
    clock.advance(hours=73)
    # When the sweep declares silent parcels lost
    claims = shop.claims.lose_silent_parcels()
    # Then the two parcels with goods have their claims, the empty box is left to a person
    assert sorted(shop.claims.get(c)["shipment_id"] for c in claims) == sorted(
        [first.id, other.id])
    assert shop.shipments.get(empty.id).state == "stalled"
    assert f"parcel {empty.id} silent" in caplog.text and "settle it by hand" in caplog.text
