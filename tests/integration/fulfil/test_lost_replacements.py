"""A replacement parcel that leaves the warehouse of another parcel of the same order: each
parcel's loss settles its own goods, so the buyer can be refunded for both, and no more.

Found by the stock conservation state machine (test_stock_conservation.py): a split order's
first parcel lost and reshipped from the warehouse of its second; the second lost too; then the
replacement lost and refused with "no sold goods left on this parcel": a parcel's goods were the
order's sold units in its warehouse, so the second parcel's loss refunded (and claimed from the
carrier) the replacement's units too while they were on their way."""

from __future__ import annotations

from tests.factories import shipped_order, stock


def test_a_lost_replacement_from_another_parcels_warehouse_is_refunded(shop):
    # Given an order of 3 × 100 split over WH-A (2) and WH-C (1), both parcels moving
    stock(shop, "SKU-2", "WH-A", 2)
    stock(shop, "SKU-2", "WH-C", 1)
    order = shipped_order(shop, sku="SKU-2", quantity=3, unit_price=100)
    first, second = sorted(shop.shipments.of_order(order.id), key=lambda p: p.warehouse)
    for parcel in (first, second):
        shop.shipments.fire(parcel.id, "pick_up", location="hub")
    assert (first.warehouse, second.warehouse) == ("WH-A", "WH-C")
    # And WH-A's parcel lost and reshipped from WH-C, the only stock left
    stock(shop, "SKU-2", "WH-C", 2)
    lost = shop.claims.report_lost(first.id, reason="lost at hub", settle="reship")
    [replacement] = lost["details"]["replacement"]
    assert shop.shipments.get(replacement).warehouse == "WH-C"
    # When WH-C's own parcel is lost and refunded
    claim = shop.claims.report_lost(second.id, reason="lost at hub", settle="refund")
    # Then only its one unit is refunded and claimed
    assert (claim["goods_value"], claim["compensated"]) == (100, 100)
    assert shop.orders.get(order.id).refunded == 100
    # When the replacement is lost too and refunded
    shop.shipments.fire(replacement, "pick_up", location="hub")
    claim = shop.claims.report_lost(replacement, reason="lost again", settle="refund")
    # Then its two units are refunded: the buyer has everything paid back, once
    assert (claim["goods_value"], claim["compensated"]) == (200, 200)
    after = shop.orders.get(order.id)
    assert (after.state, after.refunded, after.paid) == ("completed", 300, 300)
    ledger = shop.fulfilment.ledger()
    assert ledger["shipped"] == 5 and shop.inventory.reconcile() == []
