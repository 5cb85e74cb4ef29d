"""Correcting an order's address before it ships (`pilot.orders.correct_address`): an order
held for `address_contradiction` (or any order not shipped yet) gets the address ops confirmed
with the buyer; the new address passes placement's checks or nothing is written; the history
says who changed it, with the street masked; the review still waits for the reviewer; the
buyer's address counters follow the order to its new address."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from integrations.carriers.simulated import SimulatedCarrier
from integrations.console.casefiles import review_description
from integrations.console.casework import open_case
from integrations.geo.addresses import parse_address
from integrations.ingest.imports import import_record
from integrations.risk.config import default_ruleset
from integrations.risk.sql_store import SqlRiskStore
from orderpilot import InvalidInput, OrderPilot
from statemachine.errors import InvalidTransition
from statemachine.ports import CarrierProfile
from statemachine.risk_port import PlacedLine, PlacementFacts, approve_everything
from tests.factories import placed_order, shipped_order, stock
from tests.integration.risk.test_address_contradictions import (
    GUANGDONG_HANGZHOU,
    RecordingCarrier,
    _record,
    _shipped_with_a_label,
)
from tests.integration.test_order_lifecycle import row_counts

CORRECTED = {"province": "浙江省", "city": "杭州市", "district": "西湖区", "street": "文三路18号"}
NANSHAN = {"recipient": "陈静", "phone": "+86 137 2468 1357", "province": "广东省",
           "city": "深圳市", "district": "南山区", "street": "科技南十二路2号"}


def held_import(pilot: OrderPilot, ext: str = "PDD-1") -> str:
    done = import_record(pilot.context, _record(ext, GUANGDONG_HANGZHOU), "pdd", "import:pdd")
    assert pilot.orders.get(done.order_id).state == "under_review"
    return done.order_id


def test_a_held_orders_address_is_corrected_and_the_review_still_waits(any_pilot, clock):
    # Given an imported order held for review: 广东省 / 杭州市 / 西湖区
    stock(any_pilot)
    order_id = held_import(any_pilot)
    clock.advance(minutes=10)
    # When ops correct the province, as the buyer confirmed on the phone
    order = any_pilot.orders.correct_address(order_id, address=CORRECTED, by="ops:mei",
                                             reason="买家来电确认")
    # Then the order ships to the corrected address, the recipient and phone kept, and it no
    # longer contradicts itself
    assert order.state == "under_review"
    assert order.shipping_address == {**CORRECTED, "recipient": "王芳",
                                      "phone": "+86 139 1234 5678", "country": "CN"}
    assert order.address_conflicts == []
    assert order.address_corrected == {
        "at": clock.now().isoformat(), "by": "ops:mei", "reason": "买家来电确认",
        "conflicts_before": ["province contradicts city: 广东省 does not contain 杭州市 "
                             "(浙江省)"]}
    # and the history records who did it, the region readable and the street masked
    step = any_pilot.orders.history(order_id)[-1]
    assert (step.trigger, step.from_state, step.to_state, step.actor) == (
        "correct_address", "under_review", "under_review", "ops:mei")
    assert step.payload["from"]["province"] == "广东省"
    assert step.payload["to"]["province"] == "浙江省"
    assert step.payload["to"]["street"] == "文***"
    shown = json.dumps(step.payload, ensure_ascii=False)
    assert "文三路" not in shown and "1234 5678" not in shown and "王芳" not in shown
    # and the event that leaves the store says the same, masked
    with any_pilot.context.engine.connect() as conn:
        [event] = conn.execute(text("SELECT payload FROM outbox WHERE event = "
                                    "'orderpilot.order.address_corrected'")).scalars().all()
    event_text = event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)
    assert "文三路" not in event_text and "浙江省" in event_text
    # and the reviewer still decides: the task is open, saying the address was corrected
    [task] = any_pilot.reviews.list()
    assert task.order_id == order_id and task.address_corrected["by"] == "ops:mei"
    case = open_case(any_pilot.context, "risk-review", order_id)
    assert case is not None
    description = review_description(any_pilot.context, case, clock.now())
    assert "## Address corrected" in description
    assert "by ops:mei" in description and "广东省 does not contain 杭州市" in description
    assert "Ships to CN 浙江省 杭州市 西湖区" in description
    assert any_pilot.reviews.approve(order_id, by="mei").state == "awaiting_payment"


@pytest.mark.parametrize(("address", "problems"), [
    ({**CORRECTED, "province": "广东省"},
     {"address.province": "广东省 does not contain 杭州市 (浙江省)"}),
    ({**CORRECTED, "district": "南山区"},
     {"address.city": "杭州市 does not contain 南山区 (广东省深圳市, 黑龙江省鹤岗市)"}),
    ({"province": "浙江省", "city": "杭州市"}, {"address.street": "expected a street address "
                                                                "(or a line)"}),
    ({**CORRECTED, "phone": "12345"},
     {"address.phone": "expected a valid phone number, e.g. +86 138 0013 8000 (got '12345')"}),
    ({**CORRECTED, "floor": "3"}, {"address.floor": "Extra inputs are not permitted (got '3')"}),
])
def test_a_correction_that_would_not_be_placed_is_refused_naming_the_field(any_pilot, address,
                                                                           problems):
    # Given an order awaiting payment
    stock(any_pilot)
    order = placed_order(any_pilot, shipping_address=NANSHAN)
    before = row_counts(any_pilot), any_pilot.orders.get(order.id)
    # When ops send an address placement would refuse
    with pytest.raises(InvalidInput) as refused:
        any_pilot.orders.correct_address(order.id, address=address, by="ops:mei")
    # Then it is refused naming the field, and nothing is written
    assert refused.value.problems == problems
    assert (row_counts(any_pilot), any_pilot.orders.get(order.id)) == before


def test_who_corrects_must_be_named(any_pilot):
    stock(any_pilot)
    order = placed_order(any_pilot, shipping_address=NANSHAN)
    with pytest.raises(InvalidInput) as refused:
        any_pilot.orders.correct_address(order.id, address=CORRECTED, by=" ")
    assert list(refused.value.problems) == ["by"]


def test_a_shipped_order_keeps_its_address_and_the_refusal_names_its_state(any_pilot):
    # Given a shipped order and a cancelled one
    stock(any_pilot)
    shipped = shipped_order(any_pilot, shipping_address=NANSHAN)
    cancelled = placed_order(any_pilot, buyer="b-2", shipping_address=NANSHAN)
    any_pilot.orders.fire(cancelled.id, "cancel", actor="b-2")
    before = row_counts(any_pilot)
    # When ops try to correct their addresses
    for order_id, state in ((shipped.id, "shipped"), (cancelled.id, "cancelled")):
        with pytest.raises(InvalidTransition) as refused:
            any_pilot.orders.correct_address(order_id, address=CORRECTED, by="ops:mei")
        # Then each is refused naming the state, nothing written
        assert f"order {order_id} cannot correct_address from {state}" in str(refused.value)
    assert row_counts(any_pilot) == before
    assert any_pilot.orders.get(shipped.id).shipping_address["district"] == "南山区"


def test_a_packed_orders_label_is_bought_for_the_corrected_address(any_url, clock):
    # Given an order to 广东省 杭州市 西湖区 that no review held, paid and packed
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    stock(pilot)
    done = import_record(pilot.context, _record("PDD-4", GUANGDONG_HANGZHOU), "pdd", "import:pdd")
    # When its address is corrected before it ships
    pilot.orders.correct_address(done.order_id, address=CORRECTED, by="ops:mei")
    carrier = RecordingCarrier(SimulatedCarrier(CarrierProfile("sim-express"), clock))
    request = _shipped_with_a_label(pilot, carrier, done.order_id)
    pilot.close()
    # Then the label goes to the corrected address, with nothing to flag
    assert request.address["province"] == "浙江省"
    assert request.flag is None


WENSAN = {"province": "浙江省", "city": "杭州市", "district": "西湖区", "street": "文三路18号"}
ZHANGJIANG = {"province": "上海市", "city": "上海市", "district": "浦东新区",
              "street": "张江路88弄5号"}


def _signals_at(pilot, clock, address):
    """b-1's next order to `address`: its address-change signal, what a recount of the
    placement facts says it should be, and the orders velocity by address counts there."""
    parsed = parse_address(address)
    facts = PlacementFacts(
        order_id="o-999999", buyer_id="b-1", amount=1999, currency="CNY",
        lines=(PlacedLine("SKU-1", 1, 1999),), shipping_address=address, address=parsed,
        placed_at=clock.now(), device_id="d-b-1")
    with pilot.context.tx(readonly=True) as tx:
        signals = SqlRiskStore(tx.connection).signals(facts, default_ruleset())
        recount = tx.connection.execute(text(
            "SELECT count(DISTINCT address_norm) FROM risk_order_facts "
            "WHERE buyer_id = 'b-1' AND address_norm <> :a"), {"a": parsed.key}).scalar_one()
    return signals.address_changes, recount, signals.velocity["address"]


def test_the_address_counters_follow_the_corrected_order(any_pilot, clock):
    # Given b-1's only order, to 文三路18号 in Hangzhou
    stock(any_pilot)
    order = placed_order(any_pilot, quantity=1, shipping_address=WENSAN)
    # When ops correct it to 张江路 in Shanghai (the buyer moved)
    any_pilot.orders.correct_address(order.id, address=ZHANGJIANG, by="ops:mei")
    # Then b-1 has shipped to one address: the corrected one — an order to it counts no
    # change, as a recount of the placement facts says, and velocity by address counts the
    # order there (before: the old address stayed the order's, the new one unknown)
    assert _signals_at(any_pilot, clock, ZHANGJIANG) == (0, 0, 1)
    # and an order to the old address counts one other address, the corrected one
    assert _signals_at(any_pilot, clock, WENSAN) == (1, 1, 0)


def test_an_address_still_used_by_another_order_stays_counted(any_pilot, clock):
    # Given two orders of b-1 to 文三路18号, one of them corrected to 张江路
    stock(any_pilot)
    placed_order(any_pilot, quantity=1, shipping_address=WENSAN)
    clock.advance(minutes=5)
    second = placed_order(any_pilot, quantity=1, shipping_address=WENSAN)
    any_pilot.orders.correct_address(second.id, address=ZHANGJIANG, by="ops:mei")
    # Then both addresses are b-1's: an order to either sees the other one, and one order
    assert _signals_at(any_pilot, clock, WENSAN) == (1, 1, 1)
    assert _signals_at(any_pilot, clock, ZHANGJIANG) == (1, 1, 1)
