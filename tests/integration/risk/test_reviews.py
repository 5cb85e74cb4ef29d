"""The review queue: open tasks, SLA escalation on a simulated clock, decisions by a person."""

from __future__ import annotations

from datetime import timedelta

import pytest

from orderpilot import InvalidInput
from orderpilot.reviews import ReviewAlreadyDecided
from tests.factories import placed_order, stock

VAGUE = {"street": "Wensan Road", "city": "Hangzhou"}


def held_order(pilot, buyer="b-1"):
    order = placed_order(pilot, buyer=buyer, shipping_address=VAGUE)
    assert order.state == "under_review"
    return order


def test_a_held_order_is_listed_with_reasons_and_its_sla(any_pilot, clock):
    stock(any_pilot)
    order = held_order(any_pilot)
    [task] = any_pilot.reviews.list()
    assert (task.order_id, task.buyer_id, task.overdue, task.escalated) == (
        order.id, "b-1", False, False)
    assert task.due_at == clock.now() + timedelta(hours=24)
    assert [r["rule"] for r in task.reasons] == ["vague_address"]


def test_an_overdue_task_escalates_once_and_is_listed_first(any_pilot, clock):
    # Given two held orders, the first a day older than the second
    stock(any_pilot)
    late = held_order(any_pilot, buyer="b-1")
    clock.advance(hours=20)
    fresh = held_order(any_pilot, buyer="b-2")
    # When the SLA of the first passes and the sweep runs (twice)
    clock.advance(hours=5)
    assert any_pilot.sweep() == {"review_sla": 1}
    assert any_pilot.sweep() == {}
    # Then the first task is overdue and escalated, listed before the fresh one
    tasks = any_pilot.reviews.list()
    assert [(t.order_id, t.overdue, t.escalated) for t in tasks] == [
        (late.id, True, True), (fresh.id, False, False)]
    assert tasks[0].escalated_at == clock.now()


def test_approving_records_the_reviewer_and_releases_the_order_to_payment(any_pilot, clock):
    stock(any_pilot)
    order = held_order(any_pilot)
    clock.advance(minutes=30)
    approved = any_pilot.reviews.approve(order.id, by="alice", reason="called the buyer")
    assert approved.state == "awaiting_payment"
    assert approved.hold_expires_at == clock.now() + timedelta(minutes=20)
    step = any_pilot.orders.history(order.id)[-1]
    assert (step.trigger, step.actor, step.payload["reason"]) == (
        "approve", "alice", "called the buyer")
    assert any_pilot.reviews.list() == []
    [task] = any_pilot.reviews.list(include_decided=True)
    assert (task.decided_by, task.decision, task.note) == ("alice", "approve", "called the buyer")


def test_a_decided_review_cannot_be_decided_again(pilot):
    stock(pilot)
    order = held_order(pilot)
    pilot.reviews.reject(order.id, by="alice", reason="fake address")
    with pytest.raises(ReviewAlreadyDecided, match="reject by alice") as refused:
        pilot.reviews.approve(order.id, by="bob")
    assert refused.value.state == "rejected"
    assert pilot.orders.get(order.id).state == "rejected"


def test_an_order_never_held_is_refused_as_not_under_review(pilot):
    stock(pilot)
    order = placed_order(pilot)
    with pytest.raises(ReviewAlreadyDecided, match="state awaiting_payment"):
        pilot.reviews.reject(order.id, by="alice")


def test_rejecting_with_blacklist_lists_the_buyer_with_the_order_as_evidence(pilot):
    stock(pilot)
    order = held_order(pilot, buyer="b-fraud")
    pilot.reviews.reject(order.id, by="alice", reason="mule account",
                         blacklist=("buyer", "device"))
    entries = {e.kind: e for e in pilot.risk.blacklist()}
    assert set(entries) == {"buyer", "device"}
    assert (entries["buyer"].value, entries["buyer"].evidence_order_ids,
            entries["buyer"].created_by, entries["buyer"].reason) == (
        "b-fraud", [order.id], "alice", "mule account")
    assert placed_order(pilot, buyer="b-fraud").state == "rejected"


def test_a_decision_without_a_reviewer_name_is_refused_and_changes_nothing(pilot):
    stock(pilot)
    order = held_order(pilot)
    with pytest.raises(InvalidInput, match="by"):
        pilot.reviews.approve(order.id, by="  ")
    assert pilot.orders.get(order.id).state == "under_review"
