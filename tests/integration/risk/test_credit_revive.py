"""A revived order's buyer paid after all: the unpaid-expiry deduction is undone, once."""

from __future__ import annotations

from dataclasses import replace

from integrations.ingest.money_events import apply_money_event
from integrations.service import money
from statemachine.ports import MoneyEvent
from tests.factories import placed_order, stock


def money_arrives(pilot, order, payment_ref: str) -> str:
    """The provider reports the order's money captured now, under the shop's revive policy
    (as /hooks/stripe and /hooks/alipay apply it)."""
    event = MoneyEvent("simulated", f"evt-{payment_ref}", "captured", payment_ref,
                       order.total, "CNY", pilot.clock.now(), order_id=order.id)
    ctx = replace(pilot.context, settings=pilot.context.settings.model_copy(
        update={"late_payments": "revive"}))
    outcome, follow = apply_money_event(ctx, event)
    money.execute_quietly(ctx, follow, ctx.clock.now())
    return str(outcome.body.get("note") or outcome.status)


def kinds(pilot, buyer="b-1"):
    return [(c.kind, c.before, c.after) for c in pilot.risk.credit_history(buyer)]


def test_a_revived_order_gives_back_the_points_its_expiry_cost(any_pilot, clock):
    # Given b-1's order expired unpaid (5 points off: 100 -> 95)
    stock(any_pilot, quantity=10)
    order = placed_order(any_pilot, quantity=1)
    clock.advance(minutes=21)
    any_pilot.sweep()
    assert any_pilot.orders.get(order.id).state == "expired"
    assert any_pilot.risk.credit("b-1") == 95
    # When the buyer's money arrives after all and revives the order
    assert "revived" in money_arrives(any_pilot, order, "wx-late-1")
    # Then the deduction is undone: the buyer did pay
    assert any_pilot.orders.get(order.id).state == "paid"
    assert kinds(any_pilot) == [("unpaid_expiry", 100, 95), ("unpaid_expiry_undone", 95, 100)]
    assert any_pilot.risk.credit("b-1") == 100


def test_an_order_that_expired_without_a_deduction_gives_nothing_back(any_pilot, clock):
    # Given an order whose payment was pending when it expired (the bank's delay: no deduction)
    stock(any_pilot, quantity=10)
    order = placed_order(any_pilot, quantity=1)
    any_pilot.orders.fire(order.id, "start_payment", payment_ref="wx-slow", amount=order.total)
    clock.advance(hours=73)
    any_pilot.sweep()
    assert any_pilot.orders.get(order.id).state == "expired"
    # When the money arrives and revives it
    assert "revived" in money_arrives(any_pilot, order, "wx-slow")
    # Then the buyer's credit never moved
    assert kinds(any_pilot) == []
    assert any_pilot.risk.credit("b-1") == 100
