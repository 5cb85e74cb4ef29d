"""The invariant checker finds each kind of inconsistency it claims to (a check that cannot fail
proves nothing): rows are broken by hand, behind the store's back."""

from __future__ import annotations

from sqlalchemy import text

from integrations.db.audit import audit
from tests.factories import delivered_order, paid_order, placed_order, shipped_order, stock


def findings(pilot, *statements: str) -> list[str]:
    with pilot.context.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    with pilot.context.engine.connect() as conn:
        return audit(conn)


def test_a_consistent_store_has_no_findings(any_pilot):
    stock(any_pilot, quantity=50)
    placed_order(any_pilot), paid_order(any_pilot), shipped_order(any_pilot)
    delivered_order(any_pilot)
    assert findings(any_pilot) == []


def test_a_return_label_waiting_for_the_buyer_is_consistent_without_a_pickup_timer(any_pilot):
    # Given a delivered order and an accepted return case whose return label went out (a
    # return label waits for the buyer to hand it in: no pickup deadline, shipment.pickup_due)
    stock(any_pilot, quantity=5)
    order = delivered_order(any_pilot)
    case = any_pilot.cases.open(order.id, kind="return_refund", reason="七天无理由退货",
                                lines=[{"line_no": 1, "quantity": 1}])
    any_pilot.cases.fire(case.id, "auto_approve")
    any_pilot.cases.fire(case.id, "await_return")
    # Then the store is consistent (before, the audit wanted a pickup timer for the label and
    # counted it as a parcel the delivered order still awaited)
    assert findings(any_pilot) == []
    # And an outbound parcel waiting for pickup without its timer is still a finding
    shipped = shipped_order(any_pilot, buyer="b-2")
    [parcel] = any_pilot.shipments.of_order(shipped.id)
    n = int(parcel.id[2:])
    assert findings(any_pilot, "DELETE FROM deadlines WHERE entity = 'shipment' AND "
                               f"entity_id = {n} AND kind = 'pickup_due'") == \
        [f"shipment {parcel.id} (label_created): pickup_due timer missing"]


def test_each_broken_invariant_is_found(any_pilot):
    stock(any_pilot, quantity=50)
    held = placed_order(any_pilot)
    shipped = shipped_order(any_pilot)
    n, s = int(held.id[2:]), int(shipped.id[2:])
    found = "\n".join(findings(
        any_pilot,
        "UPDATE inventory SET reserved = reserved + 1",                    # drift from holds
        f"DELETE FROM deadlines WHERE entity = 'order' AND entity_id = {n}",  # lost hold timer
        f"DELETE FROM outbox WHERE order_id = {n} AND event LIKE '%awaiting_payment'",
        f"UPDATE orders SET version = version + 1 WHERE id = {n}",         # a step without history
        f"UPDATE shipments SET state = 'delivered' WHERE order_id = {s}",  # shipped, none awaited
    ))
    assert "reserved 3 but live holds 2" in found
    assert f"order o-{n} (awaiting_payment): hold_expiry timer missing" in found
    assert "1 history row(s) but 0 outbox event(s)" in found
    assert f"order o-{n}: version 3 but 2 history row(s)" in found
    assert f"order o-{s} is shipped but awaits no parcel" in found


def _open_dispute(pilot, order, ref: str, due_by):
    from integrations.ingest.money_events import apply_money_event
    from statemachine.ports import MoneyEvent

    apply_money_event(pilot.context, MoneyEvent(
        "stripe", f"evt-{ref}", "dispute_opened", f"p-{order.id}", order.total, "CNY",
        pilot.context.clock.now(), order_id=order.id, dispute_ref=ref,
        reason="买家称未收到货", due_by=due_by))


def test_a_dispute_the_bank_gave_no_evidence_due_date_needs_no_evidence_timer(any_pilot):
    # Given a shipped order (杭州, CNY) and a chargeback whose bank allows no response: the
    # provider sends no evidence due date (Stripe's evidence_details.due_by null or 0)
    from datetime import timedelta

    stock(any_pilot, quantity=5)
    order = shipped_order(any_pilot)
    _open_dispute(any_pilot, order, "dp_no_due", None)
    # Then the store is consistent: there is nothing to alert before (before, the audit
    # wanted a dispute_evidence timer and reported "dispute d-1 (opened): dispute_evidence
    # timer missing", a false alarm)
    assert findings(any_pilot) == []
    # And a dispute with a due date that lost its timer is still a finding
    other = shipped_order(any_pilot, buyer="b-2")
    _open_dispute(any_pilot, other, "dp_due", any_pilot.context.clock.now() + timedelta(days=7))
    assert findings(any_pilot) == []
    found = findings(any_pilot, "DELETE FROM deadlines WHERE kind = 'dispute_evidence'")
    assert found == ["dispute d-2 (opened): dispute_evidence timer missing"]
