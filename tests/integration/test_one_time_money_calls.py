"""The public money calls write one time (issue 10; tests/integration/one_time.py: the shop's
clock ticks on every read while the call runs): the refund recorded, the provider's answer
booked — the operation settled, the ledger row, the order's money, the history — all at the
call's `now`. Before, `money.execute` → `settle` read the clock again after the provider
answered, so the settlement was a tick after the refund it settled. A goodwill refund, an
order refund, a case refund and a lost parcel's compensation. Both stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.service.money_refunds import refund_order
from orderpilot import OrderPilot
from tests.conftest import START
from tests.factories import paid_order, stock
from tests.fakes.clocks import TickingClock
from tests.integration.fulfil.conftest import make_pilot
from tests.integration.one_time import one_time

# the rows a refund paid at once writes: recorded, settled, in the ledger
PAID = {"payment_operations.created_at", "payment_operations.settled_at", "payment_records.at"}


@pytest.fixture
def shop(any_url: str) -> Iterator[OrderPilot]:
    pilot = make_pilot(any_url, TickingClock(START))
    yield pilot
    pilot.close()


def paid(shop: OrderPilot, quantity: int = 1) -> str:
    stock(shop, "SKU-1", "WH-A", 6)
    return paid_order(shop, quantity=quantity).id


def test_a_goodwill_refund_writes_one_time(shop):
    order_id = paid(shop)
    # When ¥5.00 is paid back as goodwill: recorded, asked of the provider, settled
    refund, times = one_time(shop, lambda: shop.orders.refund_goodwill(
        order_id, amount=500, reason="物流延误补偿", by="cs-wang"))
    # Then at one time (before: the settlement and the ledger a clock read later)
    assert refund.status == "succeeded"
    assert times.keys() >= PAID, times


def test_an_order_refund_writes_one_time(shop):
    order_id = paid(shop)
    done, times = one_time(shop, lambda: refund_order(
        shop.context, int(order_id[2:]), 300, "价格调整", "cs-wang"))
    assert done.status.value == "succeeded"
    assert times.keys() >= PAID, times


def test_a_case_refund_writes_one_time(shop):
    # Given a refund-only case accepted by a person (its refund not yet paid)
    order_id = paid(shop)
    case = shop.cases.open(order_id, kind="refund_only", reason="包装破损",
                           lines=[{"line_no": 1, "quantity": 1}])
    for trigger in ("review", "approve"):
        shop.cases.fire(case.id, trigger, actor="cs-wang")
    # When it is refunded: recorded, paid, the case's refund step and the order's money booked
    refund, times = one_time(shop, lambda: shop.cases.refund(case.id, by="cs-wang"))
    assert refund.status == "succeeded"
    assert shop.cases.get(case.id).state == "refunded"
    assert PAID | {"transition_history.at"} <= times.keys(), times


def test_a_lost_parcel_refunded_writes_one_time(shop):
    # Given a paid order of 2 shipped in one parcel, picked up
    order_id = paid(shop, quantity=2)
    for trigger in ("start_picking", "pack", "ship"):
        shop.orders.fire(order_id, trigger)
    [parcel] = shop.shipments.of_order(order_id)
    shop.shipments.fire(parcel.id, "pick_up")
    # When the carrier loses it and the buyer is paid back: the parcel lost, the claim filed,
    # the compensation recorded and paid out after the commit — in the same call
    _, times = one_time(shop, lambda: shop.claims.report_lost(parcel.id, reason="分拣中心丢失",
                                                              settle="refund"))
    assert shop.orders.get(order_id).refunded > 0
    assert PAID | {"parcel_claims.created_at", "transition_history.at"} <= times.keys(), times
