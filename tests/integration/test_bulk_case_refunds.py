"""Refunds of one order's cases in one bulk batch (a replay) are decided one after the other, as
single calls would be: a refund the first one left no room for is refused alone, with the
single call's reason, and the rest of the batch applies.

Before, every refund of a round was checked against the order as it was before the batch: two
refunds of the same units both passed their guard, and the second failed when its order's
lines were marked — the whole batch failed, the first refund with it."""

from __future__ import annotations

import pytest

from integrations.ingest import handlers
from integrations.ingest.events import PaymentEvent
from integrations.replay import bulk
from statemachine.errors import GuardRejected
from tests.factories import opened_before_one_case_per_unit, order_request, paid_order, stock

MUG = 1999


def number(public_id: str) -> int:
    return int(public_id[2:])


def approved_refund_only(pilot, order_id: str, lines: list[dict[str, int]]) -> str:
    case = pilot.cases.open(order_id, kind="refund_only", reason="杯子有裂纹", lines=lines)
    pilot.cases.fire(case.id, "auto_approve")
    return case.id


def single_refund_refusal(pilot, case_id: str) -> str:
    """What the single call says when it refuses the case's refund now."""
    with pytest.raises(GuardRejected) as refused:
        pilot.cases.fire(case_id, "refund")
    return str(refused.value)


def refund_in_one_batch(pilot, clock, *case_ids: str) -> list[bulk.Refused]:
    with pilot.context.tx() as tx:
        return bulk.fire_cases(pilot.context, tx, [
            bulk.Move(number(c), "refund", clock.now(), "replay") for c in case_ids])


def test_two_refunds_of_the_same_units_in_one_batch_refuse_the_second_alone(any_pilot, clock):
    # Given 2 mugs paid, an approved case on both and one on one of them (as stores written
    # before one open case per unit hold them)
    stock(any_pilot, "SKU-MUG", "WH-1", 5)
    order = paid_order(any_pilot, sku="SKU-MUG", quantity=2, unit_price=MUG)
    first = approved_refund_only(any_pilot, order.id, [{"line_no": 1, "quantity": 2}])
    with opened_before_one_case_per_unit():
        second = approved_refund_only(any_pilot, order.id, [{"line_no": 1, "quantity": 1}])
    # When a replay batch refunds both
    refused = refund_in_one_batch(any_pilot, clock, first, second)
    # Then the first is refunded and the second alone refused, as a single call words it
    assert [(r.move.id, r.state) for r in refused] == [(number(second), "auto_approved")]
    assert refused[0].error == single_refund_refusal(any_pilot, second)
    assert any_pilot.cases.get(first).state == "refunded"
    assert any_pilot.cases.get(second).state == "auto_approved"
    final = any_pilot.orders.get(order.id)
    assert (final.refunded, final.lines[0].refunded_quantity) == (2 * MUG, 2)


def test_refunds_that_together_exceed_what_is_left_refuse_the_one_that_does_not_fit(
        any_pilot, clock):
    # Given a mug and a teapot paid, a teapot's price taken back by a chargeback
    stock(any_pilot, "SKU-MUG", "WH-1", 5)
    stock(any_pilot, "SKU-POT", "WH-1", 5)
    request = order_request(sku="SKU-MUG", quantity=1, unit_price=MUG)
    request["lines"].append({"sku": "SKU-POT", "quantity": 1, "unit_price": MUG})
    order = any_pilot.orders.place(**request)
    any_pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"p-{order.id}")
    handlers.payment_event(any_pilot.context, PaymentEvent(
        event_id=f"cb-{order.id}", type="chargeback", order_id=order.id, amount=MUG,
        payment_ref=f"p-{order.id}", reason="持卡人拒付"))
    assert any_pilot.orders.get(order.id).refunded == MUG
    # And one approved refund-only case per line: each fits alone, not both
    mug = approved_refund_only(any_pilot, order.id, [{"line_no": 1, "quantity": 1}])
    pot = approved_refund_only(any_pilot, order.id, [{"line_no": 2, "quantity": 1}])
    # When a replay batch refunds both
    refused = refund_in_one_batch(any_pilot, clock, mug, pot)
    # Then the mug's is refunded and the teapot's refused alone: nothing left of what was paid
    assert [r.move.id for r in refused] == [number(pot)]
    assert "its order has 0 left to refund of what was paid" in refused[0].error
    assert refused[0].error == single_refund_refusal(any_pilot, pot)
    assert any_pilot.orders.get(order.id).refunded == order.total
