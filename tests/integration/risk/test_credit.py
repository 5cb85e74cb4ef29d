"""Buyer credit through the lifecycle: deductions, slow recovery, history, restriction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orderpilot import GuardRejected, InvalidInput
from tests.factories import delivered_order, paid_order, placed_order, stock


def kinds(pilot, buyer="b-1"):
    return [(c.kind, c.before, c.after) for c in pilot.risk.credit_history(buyer)]


def test_an_unpaid_expiry_and_a_cancel_after_the_hold_each_cost_five(any_pilot, clock):
    stock(any_pilot)
    placed_order(any_pilot, quantity=1)
    clock.advance(minutes=21)
    any_pilot.sweep()  # the bulk expiry path
    held = placed_order(any_pilot, quantity=1)
    any_pilot.orders.fire(held.id, "cancel", actor="b-1", reason="changed my mind")
    assert kinds(any_pilot) == [("unpaid_expiry", 100, 95), ("cancel_after_hold", 95, 90)]
    assert any_pilot.risk.credit("b-1") == 90
    history = any_pilot.risk.credit_history("b-1")
    assert history[1].order_id == held.id and history[1].actor == "b-1"


def test_a_completed_order_recovers_one_point_but_never_above_the_maximum(pilot, clock):
    # Given b-1 lost 5 points on an expired hold
    stock(pilot, quantity=10)
    placed_order(pilot, quantity=1)
    clock.advance(minutes=21)
    pilot.sweep()
    # When two orders complete
    for _ in range(2):
        delivered_order(pilot, quantity=1)
    clock.advance(days=8)
    pilot.sweep()
    # Then each completion adds one point (slow recovery)
    assert kinds(pilot)[1:] == [("good_order", 95, 96), ("good_order", 96, 97)]
    # And a buyer already at 100 stays at 100
    delivered_order(pilot, buyer="b-2", quantity=1)
    clock.advance(days=8)
    pilot.sweep()
    assert kinds(pilot, "b-2") == [("good_order", 100, 100)]


def test_a_refund_attempt_with_mismatched_goods_and_a_chargeback_restrict_the_buyer(pilot):
    # Given a delivered order returned with goods that do not match
    stock(pilot, quantity=10)
    order = delivered_order(pilot, quantity=1)
    case = pilot.cases.open(order.id, kind="return_refund", reason="broken",
                            lines=[{"line_no": 1, "quantity": 1}])
    for trigger, params in (("auto_approve", {}), ("await_return", {}), ("receive", {}),
                            ("inspect", {"result": "mismatch"})):
        pilot.cases.fire(case.id, trigger, **params)
    # When the case is closed and a chargeback arrives on another paid order
    pilot.cases.fire(case.id, "close", reason="a brick came back")
    other = paid_order(pilot, quantity=1)
    pilot.risk.record_chargeback(other.id, by="gateway", note="cb-123 fraudulent")
    # Then -20 and -30 leave 50, below 60: the next order is held for review
    assert kinds(pilot) == [("malicious_refund", 100, 80), ("chargeback", 80, 50)]
    nxt = placed_order(pilot, quantity=1)
    assert nxt.state == "under_review"
    assert "credit_restricted" in [r["rule"] for r in nxt.risk["reasons"]]


def test_a_shop_cancel_by_the_system_or_before_the_hold_costs_nothing(pilot):
    stock(pilot)
    order = placed_order(pilot, quantity=1, shipping_address={"street": "Wensan Road",
                                                               "city": "Hangzhou"})
    pilot.orders.fire(order.id, "cancel", actor="b-1")  # from under_review: no hold yet
    other = placed_order(pilot, quantity=1)
    pilot.orders.fire(other.id, "cancel", actor="system:fraud-ops")
    assert kinds(pilot) == []


def test_a_chargeback_on_an_unpaid_order_is_refused(pilot):
    stock(pilot)
    order = placed_order(pilot)
    with pytest.raises(GuardRejected, match="nothing was paid"):
        pilot.risk.record_chargeback(order.id, by="gateway")
    assert pilot.risk.credit("b-1") == 100


def test_several_expiries_in_one_sweep_batch_are_applied_in_order_per_buyer(any_pilot, clock):
    # Given three unpaid orders of b-1 and one of b-2, all lapsing before the same sweep
    stock(any_pilot, quantity=10)
    for buyer in ("b-1", "b-1", "b-2", "b-1"):
        placed_order(any_pilot, buyer=buyer, quantity=1)
    clock.advance(minutes=21)
    # When one sweep expires them together (the bulk path)
    assert any_pilot.sweep() == {"hold_expiry": 4, "stale": 0}
    # Then each buyer lost five points per expiry, one history row each, in order
    assert kinds(any_pilot) == [("unpaid_expiry", 100, 95), ("unpaid_expiry", 95, 90),
                                ("unpaid_expiry", 90, 85)]
    assert kinds(any_pilot, "b-2") == [("unpaid_expiry", 100, 95)]
    assert (any_pilot.risk.credit("b-1"), any_pilot.risk.credit("b-2")) == (85, 95)


@pytest.mark.parametrize("note", ["拒付" * 300, "cb\x00-1", ""])
def test_a_chargeback_note_the_store_cannot_keep_is_refused_naming_it(any_pilot, note):
    # Before: SQLite kept 600 characters in a varchar(500) and PostgreSQL refused a NUL as
    # 'the store refused a value' naming 'input'
    stock(any_pilot)
    order = paid_order(any_pilot, quantity=1)
    with pytest.raises(InvalidInput) as refused:
        any_pilot.risk.record_chargeback(order.id, by="gateway", note=note)
    assert "note" in refused.value.problems
    assert any_pilot.risk.credit("b-1") == 100


@pytest.mark.parametrize("buyer_id", ["买家", "b-1\x00", "b" * 65, 7])
def test_a_buyer_id_no_order_can_carry_is_refused_naming_it(any_pilot, buyer_id):
    # Before: register_buyer stored 买家 (a buyer no order can name), and on PostgreSQL a NUL
    # came back as 'the store refused a value' naming 'input'
    with pytest.raises(InvalidInput) as refused:
        any_pilot.risk.register_buyer(buyer_id, signed_up_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert "buyer_id" in refused.value.problems
    for read in (any_pilot.risk.credit, any_pilot.risk.credit_history):
        with pytest.raises(InvalidInput, match="buyer_id"):
            read(buyer_id)
