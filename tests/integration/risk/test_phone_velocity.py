"""`phone_velocity` on a real store (SQLite and PostgreSQL): the other buyers whose orders in
the last day went to an order's phone, read from `risk_order_facts.phone_norm` by an index
range over the window — one number however written, the buyer's own orders and the order
being judged never counted, a corrected phone judged and then counted at the new number."""

from __future__ import annotations

import json

from sqlalchemy import select

from integrations.console.casefiles import review_description
from integrations.console.casework import open_case
from integrations.db.schema_risk import RiskDecisionRow
from tests.factories import placed_order, stock
from tests.integration.risk.test_address_correction_rules import refused
from tests.integration.risk.test_address_corrections import NANSHAN, held_import

RING = "+86 138 0013 8000"
WRITTEN = ("+86 138 0013 8000", "13800138000", "0086-138-0013-8000")
SHOWN = "138****8000"


def ring_order(pilot, n: int, phone: str = RING, **extra):
    """An order of the ring's n-th account: its own device, IP and address, the ring's phone."""
    address = {"province": "浙江省", "city": "杭州市", "district": "西湖区",
               "street": f"文三路{n + 1}号", "recipient": f"张{n}", "phone": phone}
    return placed_order(pilot, buyer=f"b-ring-{n}", quantity=1, shipping_address=address,
                        **extra)


def test_the_fourth_account_on_one_phone_in_a_day_is_held_for_review(any_pilot, clock):
    # Given three accounts that put one number, each writing it its own way, on orders today
    stock(any_pilot, quantity=100)
    for n, written in enumerate(WRITTEN):
        assert ring_order(any_pilot, n, written).state == "awaiting_payment"
        clock.advance(hours=2)
    # When a fourth account orders to that number
    fourth = ring_order(any_pilot, 3, "+86 13800138000")
    # Then it waits for a person, the reason naming the number masked and the three others
    assert fourth.state == "under_review"
    [reason] = [r for r in fourth.risk["reasons"] if r["rule"] == "phone_velocity"]
    assert reason["text"] == f"phone {SHOWN} on orders of 3 other buyers in 86400 s"
    assert reason["values"]["other_buyers"] == 3
    # And nowhere the decision is kept or told (stored decision, history row) is it in full
    with any_pilot.context.engine.connect() as conn:
        stored = conn.execute(select(RiskDecisionRow.reasons).where(
            RiskDecisionRow.order_id == int(fourth.id[2:]))).scalar_one()
    kept = json.dumps([stored, any_pilot.orders.get(fourth.id).risk], ensure_ascii=False)
    kept += repr(any_pilot.orders.history(fourth.id))
    # nor in the reviewer's form in the console, which says why the order was held
    form = review_description(any_pilot.context,
                              open_case(any_pilot.context, "risk-review", fourth.id), clock.now())
    assert f"- phone {SHOWN} on orders of 3 other buyers in 86400 s" in form
    kept += form
    assert SHOWN in kept and "13800138000" not in kept and "0013 8000" not in kept


def test_the_buyers_own_orders_and_orders_older_than_the_window_do_not_count(any_pilot, clock):
    # Given three other accounts on the number a day and a minute ago
    stock(any_pilot, quantity=100)
    for n in range(3):
        ring_order(any_pilot, n)
    clock.advance(hours=24, minutes=1)
    # And one buyer who ordered to that number four times since, every seven hours
    for _ in range(4):
        assert ring_order(any_pilot, 9).state == "awaiting_payment"
        clock.advance(hours=7)
    # When a second buyer orders to it: only that buyer's is another account in the day
    second = ring_order(any_pilot, 10)
    # (score 10.0: phone_shared 0.3 x 1 other buyer / 3, the only evidence; no hold)
    assert (second.state, second.risk["score"], second.risk["reasons"]) == (
        "awaiting_payment", 10.0, [])


def test_a_corrected_phone_used_by_three_other_buyers_is_refused_once_paid(any_pilot, clock):
    # Given three ring accounts on the number today, and b-1's paid order to 深圳 (another phone)
    stock(any_pilot, quantity=100)
    for n in range(3):
        ring_order(any_pilot, n)
    order = any_pilot.orders.fire(
        placed_order(any_pilot, buyer="b-1", quantity=1, shipping_address=NANSHAN).id, "pay",
        amount=1999, payment_ref="p-1")
    # When ops correct its phone to the ring's number (written another way): refused, named
    problems = refused(any_pilot, order.id, {**NANSHAN, "phone": "0086 138-0013-8000"})
    assert problems == {"address.phone": (
        f"phone {SHOWN} on orders of 3 other buyers in 86400 s (rule phone_velocity): "
        "placement would hold the order for a person, and it is paid, past its review (an "
        "address or phone on the allow list passes)")}
    # And allow-listing the number (an analyst's call) lets the correction through
    any_pilot.risk.list_add("allow", "phone", RING, by="lee", reason="快递驿站代收号码")
    any_pilot.orders.correct_address(order.id, address={**NANSHAN, "phone": RING}, by="ops:mei")


def test_the_order_being_corrected_does_not_count_itself(any_pilot, clock):
    # Given two other accounts on the ring's number, and a third whose order placement passed
    stock(any_pilot, quantity=100)
    for n in range(2):
        ring_order(any_pilot, n)
    order = ring_order(any_pilot, 2)
    assert order.state == "awaiting_payment"
    # When ops correct who receives it, naming the same number (the correction names the
    # phone, so the rule judges it; the order's own facts row is written by now, with it)
    corrected = any_pilot.orders.correct_address(
        order.id, address={**order.shipping_address, "recipient": "王五",
                           "phone": "13800138000"}, by="ops:mei")
    # Then it is corrected: the order is no other buyer's order to its phone (2 others, < 3)
    assert corrected.shipping_address["recipient"] == "王五"
    assert "risk" not in corrected.address_corrected


def test_a_corrected_phone_is_told_to_the_reviewer_and_counted_at_the_new_number(
        any_pilot, clock):
    # Given three ring accounts on the number, and an imported order held for review
    stock(any_pilot, quantity=100)
    for n in range(3):
        ring_order(any_pilot, n)
    order_id = held_import(any_pilot)
    # When ops correct the held order's phone to the ring's number
    corrected = any_pilot.orders.correct_address(
        order_id, address={**NANSHAN, "phone": "13800138000"}, by="ops:mei")
    # Then its reviewer is told, the number masked
    assert corrected.address_corrected["risk"] == [
        {"rule": "phone_velocity",
         "text": f"phone {SHOWN} on orders of 3 other buyers in 86400 s"}]
    # And the next account on the number counts the corrected order too: 4 other buyers
    fifth = ring_order(any_pilot, 4)
    [reason] = [r for r in fifth.risk["reasons"] if r["rule"] == "phone_velocity"]
    assert reason["values"]["other_buyers"] == 4
