"""A sweep given an explicit `now` writes that `now` everywhere — never the wall clock.

Flows call `pilot.sweep(now)` with the time they were scheduled for; the clock of the process
may be anywhere else. Every row a sweep writes (history, outbox, re-armed timers) must follow
from the `now` it was given.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from integrations.db.schema import DeadlineRow, OutboxRow, TransitionRow
from integrations.db.schema_money import PaymentOperationRow
from orderpilot import InvalidInput
from statemachine.risk_port import RiskAction, RiskDecision
from tests.factories import delivered_order, placed_order, shipped_order, stock


def review_everything(facts, signals):  # noqa: ANN001, ANN201 - the RiskCheck shape
    return RiskDecision(RiskAction.REVIEW, 50.0, ())


def test_every_row_a_sweep_writes_carries_the_now_it_was_given(any_pilot, clock):
    # Given one order or parcel waiting on each kind of timer, all placed at the clock's time
    stock(any_pilot, quantity=20)
    placed_order(any_pilot, buyer="b-hold", quantity=1)                 # hold expiry
    pending = placed_order(any_pilot, buyer="b-pending", quantity=1)    # payment due
    any_pilot.orders.fire(pending.id, "start_payment", amount=pending.total, payment_ref="bt-1")
    kept = placed_order(any_pilot, buyer="b-kept", quantity=1)          # authorisation expiry
    any_pilot.orders.fire(kept.id, "pay", amount=kept.total, payment_ref="pi-1",
                          authorised_only=True)
    shipped = shipped_order(any_pilot, buyer="b-parcel", quantity=1)    # pickup due, promise
    delivered = delivered_order(any_pilot, buyer="b-done", quantity=1)  # auto-complete
    any_pilot.cases.open(delivered.id, kind="refund_only", reason="broken",
                         lines=[{"line_no": 1, "quantity": 1}])     # after-sales SLA
    any_pilot.context.risk_check = review_everything
    placed_order(any_pilot, buyer="b-review", quantity=1)               # review SLA
    with any_pilot.context.engine.connect() as conn:
        last_history = conn.execute(select(TransitionRow.id).order_by(
            TransitionRow.id.desc())).scalars().first()
        last_event = conn.execute(select(OutboxRow.id).order_by(
            OutboxRow.id.desc())).scalars().first()

    # When a flow sweeps at a time far from the process clock (which stays where it was)
    far = clock.now() + timedelta(days=400)
    counts = any_pilot.sweep(far)

    # Then every kind fired, and everything written is dated `far`, timers computed from it
    assert {"hold_expiry", "review_sla", "pickup_due", "aftersales_sla",
            "auto_complete", "payment_due", "authorisation_expiry"} <= set(counts)
    with any_pilot.context.engine.connect() as conn:
        history = conn.execute(select(TransitionRow.__table__).where(
            TransitionRow.id > last_history)).all()
        events = conn.execute(select(OutboxRow.__table__).where(
            OutboxRow.id > last_event)).all()
        timers = conn.execute(select(DeadlineRow.__table__)).all()
        operations = conn.execute(select(PaymentOperationRow.__table__)).all()
    assert history and {h.at for h in history} == {far}
    assert events and {e.created_at for e in events} == {far}
    assert all(e.payload["at"] == far.isoformat() for e in events)
    stalled = [t for t in timers if t.entity == "shipment"]
    assert stalled == [] or all(t.due_at > far for t in stalled)
    assert any_pilot.shipments.of_order(shipped.id)[0].state == "stalled"
    assert any_pilot.orders.get(delivered.id).state == "completed"
    assert any_pilot.orders.get(pending.id).state == "expired"
    assert [(op.kind, op.created_at) for op in operations] == [("capture", far)]


@pytest.mark.parametrize("batch", [10**20, -1, 10_001, "500", True])
def test_a_sweep_batch_outside_1_to_10000_is_refused_naming_it(any_pilot, batch):
    # Before: 10**20 was a raw OverflowError on SQLite, -1 LIMIT -1 (SQLite: no limit at all),
    # "500" compared as text
    with pytest.raises(InvalidInput, match="batch"):
        any_pilot.sweep(batch=batch)
