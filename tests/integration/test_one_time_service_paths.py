"""More service calls checked by issue 10's rule, one call one time (tests/integration/one_time.py:
the shop's clock ticks a millisecond on every read while the call runs, and every time column
the call wrote must hold one time): the paths whose `fire` or money request read the clock a
second time below the call's entry — a wave released, a refused cancellation refund told to
staff, a checkout opened, a ship on an authorisation — and the paths that now pass their one
read down (a refund triaged, a return case settled, a claim's step). Both stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from integrations.db.money_store import MoneyStore
from integrations.ingest import handlers
from integrations.ingest.events import OrderPlaced
from integrations.service import refunds, settlement
from integrations.service.checkout import open_checkout
from orderpilot import OrderPilot
from statemachine.money import OperationKind
from statemachine.risk_port import Reason, RiskAction, RiskDecision
from tests.conftest import START
from tests.factories import (
    delivered_order,
    order_request,
    paid_order,
    placed_order,
    shipped_order,
    stock,
)
from tests.fakes.clocks import TickingClock
from tests.integration.fulfil.conftest import make_pilot
from tests.integration.integ.events import order_placed
from tests.integration.one_time import one_time


@pytest.fixture
def shop(any_url: str) -> Iterator[OrderPilot]:
    pilot = make_pilot(any_url, TickingClock(START))
    yield pilot
    pilot.close()


def number(public_id: str) -> int:
    return int(public_id[2:])


def test_releasing_a_wave_writes_one_time(shop):
    # Given a wave of two paid orders in WH-A
    stock(shop, "SKU-1", "WH-A", 10)
    first, second = paid_order(shop, buyer="b-1").id, paid_order(shop, buyer="b-2").id
    wave = shop.waves.create(warehouse="WH-A", actor="lead-1")
    # When it is released: both orders start picking, the wave is marked released
    outcomes, times = one_time(shop, lambda: shop.waves.release(wave["id"], actor="lead-2"))
    # Then every row carries the release's time (before: each order's start_picking read
    # the clock again, a later time each than the wave's released_at)
    assert outcomes == {first: "picking", second: "picking"}
    assert {"waves.released_at", "transition_history.at", "outbox.created_at",
            "orders.updated_at"} <= times.keys(), times


def test_a_refused_cancellation_refund_told_to_staff_writes_one_time(shop):
    # Given a cancelled paid order whose refund is recorded, and the provider refusing it
    stock(shop, "SKU-1", "WH-A", 5)
    order = paid_order(shop)
    shop.orders.fire(order.id, "cancel", reason="买家不要了")
    case = settlement.cancellation(shop.context, number(order.id))
    refund = settlement.request_refund(shop.context, case, shop.context.gateway.provider)
    assert refund is not None
    # When the refusal is recorded: the operation failed, staff told once (two transactions)
    told, times = one_time(shop, lambda: settlement.record_failure(
        shop.context, case, refund.key, "charge_disputed: 发卡行争议中"))
    # Then both carry one time (before: the operation's failure read the clock again)
    assert told is True
    assert {"payment_operations.settled_at", "inbox.created_at",
            "outbox.created_at"} <= times.keys(), times


def test_opening_a_checkout_writes_one_time(shop):
    stock(shop, "SKU-1", "WH-A", 5)
    order = placed_order(shop)
    # When the provider's checkout is opened: recorded, asked of the provider, settled
    checkout, times = one_time(shop, lambda: open_checkout(shop.context, number(order.id)))
    # Then recorded and settled at one time (before: a read each)
    assert checkout.payment_ref
    assert {"payment_operations.created_at", "payment_operations.settled_at"} <= \
        times.keys(), times


def test_shipping_on_an_authorisation_records_its_capture_at_the_ship_time(shop):
    # Given an order paid by an authorisation kept for capture at shipping, packed
    stock(shop, "SKU-1", "WH-A", 5)
    order = placed_order(shop)
    shop.orders.fire(order.id, "pay", amount=order.total, payment_ref="pi-auth-1",
                     authorised_only=True)
    for trigger in ("start_picking", "pack"):
        shop.orders.fire(order.id, trigger)
    # When it ships on the ticking clock: the parcel and the step, and the capture recorded
    # in the same transaction (then made after the commit: a call of its own, at its own time)
    shop.clock.advance(minutes=1)
    with shop.clock.ticking():
        assert shop.orders.fire(order.id, "ship").state == "shipped"
    # Then the capture was recorded at the ship step's time (before: a read of its own)
    [ship] = [h for h in shop.orders.history(order.id) if h.trigger == "ship"]
    with shop.context.tx(readonly=True) as tx:
        [capture] = [op for op in MoneyStore(tx.store.sql).of_order(number(order.id))
                     if op.kind is OperationKind.CAPTURE]
    assert capture.created_at == ship.at
    assert [p.created_at for p in shop.shipments.of_order(order.id)] == [ship.at]


def test_the_money_sweep_records_a_release_at_its_own_now(any_url):
    # Given a cancelled order whose authorisation is still held at the provider
    clock = TickingClock(START)
    pilot = make_pilot(any_url, clock)
    stock(pilot, "SKU-1", "WH-A", 5)
    order = placed_order(pilot)
    pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref="pi-auth-2",
                      authorised_only=True)
    pilot.orders.fire(order.id, "cancel", reason="买家不要了")
    # When the money sweep runs for a time of its own (a catch-up two hours on)
    swept_at = START + timedelta(hours=2)
    pilot.payments.sweep(swept_at)
    # Then the release it recorded says the sweep's time (before: the clock's, START)
    with pilot.context.tx(readonly=True) as tx:
        voids = [op for op in MoneyStore(tx.store.sql).of_order(number(order.id))
                 if op.kind is OperationKind.VOID]
    assert [op.created_at for op in voids] == [swept_at]
    pilot.close()


def test_triaging_a_refund_request_writes_one_time(shop):
    stock(shop, "SKU-1", "WH-A", 5)
    order = delivered_order(shop)
    case = shop.cases.open(order.id, kind="refund_only", lines=[{"line_no": 1, "quantity": 1}],
                           reason="杯口有缺口")
    # When triage decides it: its facts are read and its step written at one time
    _, times = one_time(shop, lambda: refunds.triage(shop.context, number(case.id)))
    assert shop.cases.get(case.id).state in ("auto_approved", "under_review")
    assert {"transition_history.at", "outbox.created_at",
            "aftersales_cases.updated_at"} <= times.keys(), times


def test_settling_an_approved_return_asks_for_the_goods_at_one_time(shop):
    stock(shop, "SKU-1", "WH-A", 5)
    order = delivered_order(shop)
    case = shop.cases.open(order.id, kind="return_refund",
                           lines=[{"line_no": 1, "quantity": 1}], reason="尺码不合适")
    shop.cases.fire(case.id, "auto_approve", actor="system:refund-review")
    # When the settle job runs on it: the return label goes out (await_return)
    state, times = one_time(shop, lambda: refunds.settle(shop.context, number(case.id),
                                                         shop.context.gateway))
    assert state == "awaiting_return"
    assert {"transition_history.at", "aftersales_cases.updated_at"} <= times.keys(), times


def test_a_claim_step_writes_one_time(shop):
    stock(shop, "SKU-1", "WH-A", 5)
    order = shipped_order(shop)
    [parcel] = shop.shipments.of_order(order.id)
    shop.shipments.fire(parcel.id, "pick_up")
    claim = shop.claims.report_lost(parcel.id, reason="分拣中心丢失", settle="reship")
    # When the carrier pays the claim (its own call, reading the clock at its entry)
    paid, times = one_time(shop, lambda: shop.claims.fire(claim["id"], "carrier_pay",
                                                          amount=3500, carrier_ref="SF-889"))
    assert paid["state"] == "paid"
    assert {"transition_history.at", "parcel_claims.updated_at"} <= times.keys(), times


WANGFANG = {"recipient": "王芳", "phone": "13800138000", "city": "杭州市",
            "street": "西湖区文三路18号"}


def verify_everything(facts: Any, store: Any) -> RiskDecision:
    return RiskDecision(RiskAction.VERIFY, 40.0, (Reason("velocity", "test: always verify"),))


@pytest.fixture
def verifying_shop(any_url: str) -> Iterator[OrderPilot]:
    pilot = OrderPilot(any_url, clock=TickingClock(START), risk_check=verify_everything)
    stock(pilot, "SKU-1", "WH-A", 5)
    yield pilot
    pilot.close()


def test_a_placement_left_verifying_sends_its_code_at_the_placements_time(verifying_shop):
    # When an order is placed through the Python API and the risk check asks to verify the buyer
    order, times = one_time(verifying_shop, lambda: verifying_shop.orders.place(
        **order_request(buyer="b-wangfang", quantity=1, shipping_address=WANGFANG)))
    # Then the challenge is opened and sent at the placement's time (before: after_placement
    # read the clock again once the placement committed, a later time)
    assert order.state == "verifying"
    assert {"orders.created_at", "transition_history.at", "verification_challenges.created_at",
            "verification_challenges.sent_at"} <= times.keys(), times


def test_a_shop_webhook_placement_left_verifying_sends_its_code_at_the_events_time(
        verifying_shop):
    event = OrderPlaced.model_validate(order_placed("shop-v1", buyer="b-wangfang", quantity=1,
                                                      shipping_address=WANGFANG))
    outcome, times = one_time(verifying_shop, lambda: handlers.order_placed(
        verifying_shop.context, event))
    assert outcome.status == 201 and outcome.body["order"]["state"] == "verifying"
    assert {"orders.created_at", "webhook_events.received_at",
            "verification_challenges.created_at", "verification_challenges.sent_at"} <= \
        times.keys(), times
