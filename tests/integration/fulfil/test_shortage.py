"""Short at picking: write-off with who and why, refill from the nearest warehouse or a split,
else a backorder the buyer is told about, with cancel-and-refund or retry when stock returns."""

from __future__ import annotations

import pytest

from statemachine.errors import GuardRejected, InsufficientStock, InvalidInput
from tests.factories import paid_order, placed_order, stock


def picking_order(shop, **kw):
    order = paid_order(shop, **kw)
    return shop.orders.fire(order.id, "start_picking", actor="lead")


def levels(shop):
    return {(lv.sku, lv.warehouse): (lv.on_hand, lv.reserved) for lv in shop.inventory.levels()}


def outbox_events(shop, order_id):
    with shop.context.tx(readonly=True) as tx:
        return [r[0] for r in tx.store.sql.all("SELECT event FROM outbox WHERE order_id = :o "
                                               "ORDER BY id", {"o": int(order_id[2:])})]


def test_a_short_pick_is_refilled_from_the_nearest_warehouse_that_has_it_all(shop):
    # Given an order of 3 from WH-A; WH-B (150 km) and WH-C (900 km) both hold enough
    stock(shop, "SKU-1", "WH-A", 3)
    order = picking_order(shop, quantity=3)
    stock(shop, "SKU-1", "WH-B", 5)
    stock(shop, "SKU-1", "WH-C", 50)
    # When the picker finds 2 missing in WH-A
    after = shop.fulfilment.report_short(order.id, sku="SKU-1", warehouse="WH-A", missing=2,
                                         kind="count", reason="bin empty", actor="picker-7")
    # Then the 2 come from WH-B (nearest, not the fullest), the order keeps picking
    assert after.state == "picking"
    assert levels(shop)[("SKU-1", "WH-B")] == (3, 0)
    assert levels(shop)[("SKU-1", "WH-C")] == (50, 0)
    step = shop.orders.history(order.id)[-1]
    assert (step.trigger, step.actor) == ("reallocate", "picker-7")
    assert step.payload["allocation"] == [["SKU-1", "WH-B", 2]]
    # And the write-off is on record with who and why; reconciliation finds no drift
    [adj] = shop.fulfilment.adjustments("SKU-1")
    assert (adj["delta"], adj["kind"], adj["actor"], adj["reason"]) == (
        -2, "short_pick:count", "picker-7", "bin empty")
    assert shop.inventory.reconcile() == []
    # And the order ships in two parcels, one per warehouse
    shop.orders.fire(order.id, "pack")
    shop.orders.fire(order.id, "ship")
    assert sorted(p.warehouse for p in shop.shipments.of_order(order.id)) == ["WH-A", "WH-B"]


def test_when_no_single_warehouse_has_enough_the_missing_units_are_split(shop):
    stock(shop, "SKU-1", "WH-A", 4)
    order = picking_order(shop, quantity=4)
    stock(shop, "SKU-1", "WH-B", 1)
    stock(shop, "SKU-1", "WH-C", 2)
    shop.fulfilment.report_short(order.id, sku="SKU-1", warehouse="WH-A", missing=3,
                                 kind="damage", reason="crushed pallet")
    assert shop.orders.history(order.id)[-1].payload["allocation"] == [
        ["SKU-1", "WH-B", 1], ["SKU-1", "WH-C", 2]]


def test_with_no_stock_anywhere_the_order_is_backordered_and_the_buyer_told(shop):
    # Given the only stock of SKU-1 is the order's own, and it turns out damaged
    stock(shop, "SKU-1", "WH-A", 2)
    order = picking_order(shop, quantity=2)
    after = shop.fulfilment.report_short(order.id, sku="SKU-1", warehouse="WH-A", missing=2,
                                         kind="damage", reason="water damage")
    # Then the order is backordered, and the outbox carries the transition and a buyer notice
    assert after.state == "backordered"
    assert outbox_events(shop, order.id)[-2:] == ["orderpilot.order.backordered",
                                                  "orderpilot.order.buyer_notice"]
    # and a caller may cancel it (reallocate and refund are the shop's own steps; the address
    # is corrected with `correct_address`, not listed: before, all three were, fire refusing them)
    assert shop.orders.allowed_triggers(order.id) == ["cancel"]
    # When nothing arrived, a retry says so and changes nothing
    with pytest.raises(InsufficientStock, match="SKU-1: 2 requested, only 0"):
        shop.fulfilment.retry_backorder(order.id)
    # When stock arrives, the retry allocates it and picking resumes
    stock(shop, "SKU-1", "WH-C", 5)
    assert shop.fulfilment.retry_backorder(order.id).state == "picking"
    assert levels(shop)[("SKU-1", "WH-C")] == (3, 0)


def test_a_backordered_buyer_can_cancel_and_get_everything_back(shop):
    stock(shop, "SKU-1", "WH-A", 3)
    order = picking_order(shop, quantity=3, unit_price=1000)
    shop.fulfilment.report_short(order.id, sku="SKU-1", warehouse="WH-A", missing=1,
                                 kind="count", reason="miscount")
    # no other warehouse: backordered with 2 good units still sold to the order
    cancelled = shop.orders.fire(order.id, "cancel", actor="b-1", reason="cannot wait")
    assert (cancelled.state, cancelled.refunded, cancelled.payment_status) == (
        "cancelled", 3000, "refunded")
    # the 2 good units go back on the shelf; the missing one stays written off
    assert levels(shop)[("SKU-1", "WH-A")] == (2, 0)
    assert shop.inventory.reconcile() == []


def test_a_short_report_outside_picking_or_beyond_the_order_is_refused(shop):
    stock(shop, "SKU-1", "WH-A", 5)
    paid = paid_order(shop, quantity=2)
    with pytest.raises(GuardRejected, match="while the order is picking"):
        shop.fulfilment.report_short(paid.id, sku="SKU-1", warehouse="WH-A", missing=1,
                                     reason="x")
    shop.orders.fire(paid.id, "start_picking")
    with pytest.raises(InvalidInput, match="missing: expected 1–2"):
        shop.fulfilment.report_short(paid.id, sku="SKU-1", warehouse="WH-A", missing=3,
                                     reason="x")
    with pytest.raises(InvalidInput, match="kind"):
        shop.fulfilment.report_short(paid.id, sku="SKU-1", warehouse="WH-A", missing=1,
                                     kind="theft", reason="x")
    assert shop.fulfilment.adjustments() == []


def test_stock_adjustments_are_recorded_and_never_undercut_live_holds(shop):
    stock(shop, "SKU-1", "WH-A", 5)
    paid_order(shop, quantity=1)  # sold: on hand 4
    placed_order(shop, buyer="b-2", quantity=3)  # held: reserved 3
    shop.fulfilment.adjust_stock(sku="SKU-1", warehouse="WH-A", delta=+2, kind="count",
                                 reason="found behind shelf", actor="counter-1")
    with pytest.raises(InvalidInput, match="delta: -4 would leave 2 on hand, below the 3"):
        shop.fulfilment.adjust_stock(sku="SKU-1", warehouse="WH-A", delta=-4, kind="damage",
                                     reason="forklift")
    with pytest.raises(InvalidInput, match="delta: a damage write-off removes stock"):
        shop.fulfilment.adjust_stock(sku="SKU-1", warehouse="WH-A", delta=1, kind="damage",
                                     reason="x")
    assert levels(shop)[("SKU-1", "WH-A")] == (6, 3)
    assert [a["actor"] for a in shop.fulfilment.adjustments()] == ["counter-1"]
    assert shop.inventory.reconcile() == []


def test_a_transfer_is_in_transit_until_received_once(shop):
    stock(shop, "SKU-1", "WH-A", 10)
    tid = shop.fulfilment.send_transfer(sku="SKU-1", from_warehouse="WH-A",
                                        to_warehouse="WH-B", quantity=4, reason="rebalance")
    assert levels(shop)[("SKU-1", "WH-A")] == (6, 0)
    assert shop.fulfilment.ledger()["in_transit"] == 4
    got = shop.fulfilment.receive_transfer(tid, actor="dock-2")
    assert (got["status"], got["received_by"]) == ("received", "dock-2")
    assert levels(shop)[("SKU-1", "WH-B")] == (4, 0)
    with pytest.raises(GuardRejected, match="already received by dock-2"):
        shop.fulfilment.receive_transfer(tid)
    with pytest.raises(InvalidInput, match="quantity: WH-A has fewer than 7 free SKU-1"):
        shop.fulfilment.send_transfer(sku="SKU-1", from_warehouse="WH-A",
                                      to_warehouse="WH-B", quantity=7, reason="x")


def test_with_the_transfer_policy_the_refill_travels_to_the_allocated_warehouse_first(
        any_url, clock):
    # Given a shop that transfers refills to the allocated warehouse (one parcel per order)
    from .conftest import make_pilot

    shop = make_pilot(any_url, clock, refill="transfer")
    stock(shop, "SKU-1", "WH-A", 3)
    order = picking_order(shop, quantity=3)
    stock(shop, "SKU-1", "WH-B", 5)
    # When 2 are short in WH-A
    shop.fulfilment.report_short(order.id, sku="SKU-1", warehouse="WH-A", missing=2,
                                 reason="bin empty")
    # Then 2 travel from WH-B, and packing waits for them
    [transfer] = shop.fulfilment.transfers(status="in_transit")
    assert (transfer["from_warehouse"], transfer["to_warehouse"], transfer["quantity"],
            transfer["order_id"]) == ("WH-B", "WH-A", 2, order.id)
    assert shop.fulfilment.ledger()["in_transit"] == 2
    with pytest.raises(GuardRejected, match=r"waiting for transfer t-1 \(2 SKU-1 from WH-B\)"):
        shop.orders.fire(order.id, "pack")
    # When they arrive, they become the order's, and it ships in one parcel from WH-A
    shop.fulfilment.receive_transfer(transfer["id"], actor="dock-1")
    assert shop.orders.history(order.id)[-1].payload["reason"] == "transfer t-1 arrived"
    shop.orders.fire(order.id, "pack")
    shop.orders.fire(order.id, "ship")
    assert [p.warehouse for p in shop.shipments.of_order(order.id)] == ["WH-A"]
    assert levels(shop) == {("SKU-1", "WH-A"): (0, 0), ("SKU-1", "WH-B"): (3, 0)}
    assert shop.inventory.reconcile() == []
    shop.close()
