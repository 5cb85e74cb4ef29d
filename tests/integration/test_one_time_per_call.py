"""Service calls that wrote several rows each at its own reading of the clock now write one time
(issue 10: a call takes `now` once): a short pick (write-off, one sale per warehouse it refills
from, the step), a backorder and its retry, and an offline payout (its request, the refund step,
its settlement, the ledger). The clock ticks on every read while the call runs. Both stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.service.money_refunds import record_payout
from orderpilot import OrderPilot
from tests.conftest import START
from tests.factories import paid_order, placed_order, stock
from tests.fakes.clocks import TickingClock
from tests.integration.fulfil.conftest import make_pilot
from tests.integration.one_time import one_time


@pytest.fixture
def shop(any_url: str) -> Iterator[OrderPilot]:
    pilot = make_pilot(any_url, TickingClock(START))
    yield pilot
    pilot.close()


def picking(shop: OrderPilot, quantity: int) -> str:
    order = paid_order(shop, quantity=quantity)
    shop.orders.fire(order.id, "start_picking", actor="lead")
    return order.id


def test_a_short_pick_refilled_from_two_warehouses_writes_one_time(shop):
    # Given an order of 4 from WH-A, and 1 and 2 more of it at WH-B and WH-C
    stock(shop, "SKU-1", "WH-A", 4)
    order_id = picking(shop, 4)
    stock(shop, "SKU-1", "WH-B", 1)
    stock(shop, "SKU-1", "WH-C", 2)
    # When the picker finds 3 crushed: written off, sold again from WH-B and WH-C
    _, times = one_time(shop, lambda: shop.fulfilment.report_short(
        order_id, sku="SKU-1", warehouse="WH-A", missing=3, kind="damage",
        reason="托盘压坏", actor="picker-7"))
    # Then the write-off, both sales and the step carry one time (before: one each)
    assert {"stock_adjustments.at", "stock_holds.created_at", "transition_history.at",
            "outbox.created_at"} <= times.keys(), times


def test_a_backorder_and_its_retry_each_write_one_time(shop):
    stock(shop, "SKU-1", "WH-A", 2)
    order_id = picking(shop, 2)
    backordered, times = one_time(shop, lambda: shop.fulfilment.report_short(
        order_id, sku="SKU-1", warehouse="WH-A", missing=2, kind="damage", reason="泡水"))
    assert backordered.state == "backordered"
    assert {"stock_adjustments.at", "transition_history.at", "outbox.created_at"} <= \
        times.keys(), times
    stock(shop, "SKU-1", "WH-B", 5)
    retried, times = one_time(shop, lambda: shop.fulfilment.retry_backorder(order_id))
    assert retried.state == "picking"
    assert {"stock_holds.created_at", "transition_history.at"} <= times.keys(), times


def test_an_offline_payout_writes_one_time(shop):
    stock(shop, "SKU-1", "WH-A", 2)
    order = paid_order(shop, quantity=2)
    _, times = one_time(shop, lambda: record_payout(
        shop.context, int(order.id[2:]), 1_500, "快递延误补偿", "cashier-wu", "bank transfer"))
    assert {"payment_operations.created_at", "payment_operations.settled_at",
            "payment_records.at", "transition_history.at", "outbox.created_at"} <= \
        times.keys(), times


def test_a_refill_transfer_received_writes_one_time(any_url):
    # Given a shop that transfers refills, and 2 units on their way from WH-B to an order
    shop = make_pilot(any_url, TickingClock(START), refill="transfer")
    stock(shop, "SKU-1", "WH-A", 3)
    order_id = picking(shop, 3)
    stock(shop, "SKU-1", "WH-B", 5)
    shop.fulfilment.report_short(order_id, sku="SKU-1", warehouse="WH-A", missing=2,
                                 reason="货架空")
    [transfer] = shop.fulfilment.transfers(status="in_transit")
    # When it arrives: received, its units sold to the order, the order's step
    _, times = one_time(shop, lambda: shop.fulfilment.receive_transfer(transfer["id"],
                                                                       actor="dock-1"))
    assert {"stock_transfers.received_at", "stock_holds.created_at",
            "transition_history.at"} <= times.keys(), times
    shop.close()


def test_a_review_rejected_with_a_block_list_entry_writes_one_time(any_url):
    # Given an order held for review (the packaged rules: a vague address)
    shop = OrderPilot(any_url, clock=TickingClock(START))
    stock(shop, "SKU-1", "WH-1", 5)
    order = placed_order(shop, buyer="b-fraud",
                         shipping_address={"street": "Wensan Road", "city": "Hangzhou"})
    assert order.state == "under_review"
    # When a reviewer rejects it and blocks the buyer
    _, times = one_time(shop, lambda: shop.reviews.reject(
        order.id, by="alice", reason="骡子账户", blacklist=("buyer",)))
    assert {"risk_blacklist_entries.created_at", "transition_history.at",
            "review_tasks.decided_at"} <= times.keys(), times
    shop.close()


def shipped_parcel(shop: OrderPilot) -> tuple[str, str]:
    """A paid order of 2 shipped from WH-A in one parcel, picked up: (order, parcel)."""
    stock(shop, "SKU-1", "WH-A", 6)
    order_id = picking(shop, 2)
    for trigger in ("pack", "ship"):
        shop.orders.fire(order_id, trigger)
    [parcel] = shop.shipments.of_order(order_id)
    shop.shipments.fire(parcel.id, "pick_up")
    return order_id, parcel.id


# The buyer is sent the goods again (reship): a refund instead is paid out after the commit, a
# call of its own at its own time (when the provider answers)


def test_a_lost_parcel_writes_one_time(shop):
    _, parcel_id = shipped_parcel(shop)
    # When the carrier loses it: the parcel lost, the goods sold again from stock and sent in
    # a new parcel, the claim filed
    _, times = one_time(shop, lambda: shop.claims.report_lost(parcel_id, reason="分拣中心丢失",
                                                              settle="reship"))
    assert {"parcel_claims.created_at", "stock_holds.created_at", "shipments.created_at",
            "transition_history.at", "outbox.created_at"} <= times.keys(), times


def test_a_parcel_returned_damaged_writes_one_time(shop):
    _, parcel_id = shipped_parcel(shop)
    shop.shipments.fire(parcel_id, "return_to_sender")
    # When it is back and damaged: the goods written off, sent again, the claim filed
    _, times = one_time(shop, lambda: shop.claims.receive_return(
        parcel_id, result="damaged", notes="外箱破损", settle="reship"))
    assert {"stock_adjustments.at", "parcel_claims.created_at", "shipments.created_at",
            "transition_history.at"} <= times.keys(), times


def test_a_damage_report_writes_one_time(shop):
    _, parcel_id = shipped_parcel(shop)
    shop.shipments.fire(parcel_id, "deliver")
    # When the buyer reports a broken unit: a case and a claim, opened together
    _, times = one_time(shop, lambda: shop.claims.report_damaged(
        parcel_id, lines=[{"line_no": 1, "quantity": 1}], photos=["https://img.example.cn/1.jpg"],
        reason="壶嘴断裂"))
    assert {"aftersales_cases.created_at", "parcel_claims.created_at",
            "transition_history.at"} <= times.keys(), times
