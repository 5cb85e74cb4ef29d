"""Step-up verification: the buyer answers an SMS code instead of waiting for a reviewer."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from orderpilot import GuardRejected
from tests.factories import placed_order, stock


def verifying_order(pilot, clock, phone="13800138000"):
    """The sixth order of b-1 within an hour: the velocity rule asks for verification."""
    stock(pilot, quantity=50)
    for _ in range(5):
        placed_order(pilot, buyer="b-1", quantity=1)
        clock.advance(minutes=5)
    request = {"phone": phone} if phone else {"shipping_address": {
        "street": "18 Wensan Road", "city": "Hangzhou"}}
    return placed_order(pilot, buyer="b-1", quantity=1, **request)


def challenge(pilot, order_id):
    with pilot.context.engine.connect() as conn:
        return conn.execute(text("SELECT attempts, outcome, sent_at FROM verification_challenges"
                                 " WHERE order_id = :o"), {"o": int(order_id[2:])}).one()


def test_the_right_code_approves_the_order_and_starts_its_stock_hold(any_pilot, clock):
    # Given an order in verification whose code went out by SMS
    order = verifying_order(any_pilot, clock)
    assert order.state == "verifying" and challenge(any_pilot, order.id).sent_at is not None
    code = any_pilot.context.verifier.code_for(order.id)
    # When the buyer types it
    result = any_pilot.verification.answer(order.id, code)
    # Then the order awaits payment with a fresh hold, cleared without a reviewer
    after = any_pilot.orders.get(order.id)
    assert result.passed and after.state == "awaiting_payment"
    assert after.hold_expires_at == clock.now() + any_pilot.context.timeouts.hold
    assert challenge(any_pilot, order.id).outcome == "passed"
    assert any_pilot.reviews.list() == []


def test_three_wrong_codes_reject_the_order_and_release_its_stock(any_pilot, clock):
    order = verifying_order(any_pilot, clock)
    code = any_pilot.context.verifier.code_for(order.id)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    left = [any_pilot.verification.answer(order.id, wrong).attempts_left for _ in range(3)]
    assert left == [2, 1, 0]
    assert any_pilot.orders.get(order.id).state == "rejected"
    assert challenge(any_pilot, order.id)[:2] == (3, "failed")
    assert {lv.sku: lv.reserved for lv in any_pilot.inventory.levels()} == {"SKU-1": 5}
    with pytest.raises(GuardRejected, match="not waiting for a verification code"):
        any_pilot.verification.answer(order.id, code)


def test_an_unanswered_challenge_is_rejected_by_the_sweep_when_its_time_is_up(any_pilot, clock):
    order = verifying_order(any_pilot, clock)
    clock.advance(minutes=9)
    assert any_pilot.sweep().get("verification_due", 0) == 0
    clock.advance(minutes=2)
    assert any_pilot.sweep()["verification_due"] == 1
    rejected = any_pilot.orders.get(order.id)
    assert rejected.state == "rejected"
    assert any_pilot.orders.history(order.id)[-1].payload["reason"] == \
        "verification not answered in time"
    assert challenge(any_pilot, order.id).outcome == "expired"


def test_without_a_phone_to_send_a_code_to_a_person_reviews_instead(pilot, clock):
    order = verifying_order(pilot, clock, phone=None)
    assert order.state == "under_review"
    assert [r["rule"] for r in order.risk["reasons"]] == ["velocity", "no_phone_to_verify"]


def test_a_code_typed_after_it_expired_is_refused_even_before_the_sweep(pilot, clock):
    order = verifying_order(pilot, clock)
    code = pilot.context.verifier.code_for(order.id)
    clock.advance(minutes=11)
    with pytest.raises(GuardRejected, match="the code expired"):
        pilot.verification.answer(order.id, code)
    assert pilot.orders.get(order.id).state == "verifying"  # the sweep rejects it next
