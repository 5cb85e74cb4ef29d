"""`ship` with labels of your own can send one warehouse's goods in several parcels. A parcel
whose loss finds no sold goods left on it is refused, naming the state the parcel is really in
(the `lose` step is rolled back with the refusal; it named `lost`)."""

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
