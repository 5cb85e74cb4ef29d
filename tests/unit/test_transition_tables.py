"""Every allowed and every forbidden transition of each machine, against a table written here.

The expected tables below are the specification (from DESIGN.md and the issue), typed out by
hand; the test fires every trigger from every state and compares.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from statemachine.aftersales import (
    CASE_LIFECYCLE,
    AfterSalesCase,
    CaseKind,
    CaseLine,
    CaseState,
    Inspection,
)
from statemachine.dispute import DISPUTE_LIFECYCLE, Dispute, DisputeKind, DisputeState
from statemachine.errors import GuardRejected, InvalidTransition
from statemachine.order import ORDER_LIFECYCLE
from statemachine.order_aggregate import Order, OrderLine, OrderState
from statemachine.shipment import SHIPMENT_LIFECYCLE, Shipment, ShipmentState
from tests.conftest import START

ORDER_TABLE = {
    "created": {"approve": "awaiting_payment", "review": "under_review", "reject": "rejected",
                "verify": "verifying", "cancel": "cancelled"},
    # money arriving while a decision is pending is kept (`pay` stays); approving an order
    # paid that way makes it paid, one with a payment started waits for it (payment_pending)
    # (tests/unit/test_paid_before_decision.py)
    "verifying": {"approve": "awaiting_payment", "reject": "rejected", "cancel": "cancelled",
                  "pay": "verifying", "start_payment": "verifying",
                  "fail_payment": "verifying"},
    "under_review": {"approve": "awaiting_payment", "reject": "rejected", "cancel": "cancelled",
                     "pay": "under_review", "start_payment": "under_review",
                     "fail_payment": "under_review"},
    "awaiting_payment": {"pay": "paid", "expire": "expired", "cancel": "cancelled",
                         "extend_hold": "awaiting_payment", "start_payment": "payment_pending"},
    "payment_pending": {"pay": "paid", "fail_payment": "awaiting_payment", "expire": "expired",
                        "cancel": "cancelled"},
    "paid": {"start_picking": "picking", "cancel": "cancelled", "refund": "paid",
             "capture": "paid"},
    "picking": {"pack": "packed", "cancel": "cancelled", "refund": "picking",
                "double_check": "picking", "reallocate": "picking", "backorder": "backordered",
                "capture": "picking"},
    "backordered": {"reallocate": "picking", "cancel": "cancelled", "refund": "backordered",
                    "capture": "backordered"},
    "packed": {"ship": "shipped", "refund": "packed", "capture": "packed",
               "cancel": "cancelled"},
    "shipped": {"deliver": "delivered", "refund": "shipped", "close": "completed",
                "capture": "shipped"},
    "delivered": {"close": "completed", "refund": "delivered", "capture": "delivered"},
    "completed": {"refund": "completed", "capture": "completed"},
    "expired": {"revive": "paid"},
    # money a cancel or reject left with its provider (`refund_later`) is refunded afterwards
    "cancelled": {"refund": "cancelled"}, "rejected": {"refund": "rejected"},
}
# a person corrects the address in every state before the parcel leaves; the state stays
for _state in ("created", "verifying", "under_review", "awaiting_payment", "payment_pending",
               "paid", "picking", "backordered", "packed"):
    ORDER_TABLE[_state]["correct_address"] = _state

SHIPMENT_TABLE = {
    "label_created": {"pick_up": "picked_up", "stall": "stalled"},
    "picked_up": {"scan": "in_transit", "out_for_delivery": "out_for_delivery",
                  "deliver": "delivered", "stall": "stalled", "lose": "lost",
                  "return_to_sender": "returned_to_sender"},
    "in_transit": {"scan": "in_transit", "out_for_delivery": "out_for_delivery",
                   "deliver": "delivered", "stall": "stalled", "lose": "lost",
                   "return_to_sender": "returned_to_sender"},
    "out_for_delivery": {"deliver": "delivered", "stall": "stalled", "lose": "lost",
                         "return_to_sender": "returned_to_sender"},
    "stalled": {"pick_up": "picked_up", "scan": "in_transit", "mark_late": "stalled",
                "out_for_delivery": "out_for_delivery", "deliver": "delivered", "lose": "lost",
                "return_to_sender": "returned_to_sender"},
    "delivered": {}, "lost": {}, "returned_to_sender": {},
}

CASE_TABLE = {
    "requested": {"auto_approve": "auto_approved", "review": "under_review",
                  "reject": "rejected", "close": "closed"},
    "auto_approved": {"await_return": "awaiting_return", "refund": "refunded", "close": "closed"},
    "under_review": {"approve": "approved", "reject": "rejected", "close": "closed"},
    "approved": {"await_return": "awaiting_return", "refund": "refunded", "close": "closed"},
    "awaiting_return": {"receive": "received", "close": "closed",
                        "bounce_return": "return_bounced"},
    # the carrier sent the return back to the buyer: a person sends a new label or closes
    "return_bounced": {"await_return": "awaiting_return", "close": "closed"},
    "received": {"inspect": "inspected", "close": "closed"},
    "inspected": {"refund": "refunded", "exchange": "exchanged", "repair": "repaired",
                  "close": "closed"},
    "rejected": {}, "refunded": {}, "exchanged": {}, "repaired": {}, "closed": {},
}

DISPUTE_TABLE = {
    # escalate: an open inquiry the bank turned into a chargeback, unanswered again;
    # correct_kind: a person corrects a kind stored wrong, the state stays (not once the
    # money was booked as a chargeback's: lost, accepted)
    "opened": {"prepare": "evidence_due", "accept": "accepted", "win": "won", "lose": "lost",
               "close": "closed", "escalate": "opened", "correct_kind": "opened"},
    "evidence_due": {"submit": "submitted", "accept": "accepted", "win": "won", "lose": "lost",
                     "close": "closed", "escalate": "opened", "correct_kind": "evidence_due"},
    "submitted": {"win": "won", "lose": "lost", "close": "closed", "escalate": "opened",
                  "correct_kind": "submitted"},
    # an inquiry the provider closed with no chargeback; the chargeback it became reopens it
    "closed": {"reopen": "opened", "correct_kind": "closed"},
    "won": {"correct_kind": "won"}, "lost": {}, "accepted": {},
}

ORDER_CTX = {"approve": {"hold_until": START + timedelta(minutes=20),
                         "pay_by": START + timedelta(hours=72)},
             "pay": {"amount": 100, "payment_ref": "p-1"},
             "ship": {"parcels": [{"carrier": "sim", "tracking_no": "T-1", "warehouse": "WH-1"}]},
             "start_payment": {"amount": 100, "payment_ref": "p-1",
                               "pay_by": START + timedelta(hours=72)},
             "fail_payment": {"payment_ref": "p-1", "hold_until": START + timedelta(minutes=20)},
             "capture": {"amount": 100},
             "revive": {"amount": 100, "payment_ref": "p-1"},
             "extend_hold": {"until": START + timedelta(hours=1)},
             "deliver": {"open_parcels": 0}, "close": {"open_parcels": 0},
             "refund": {"amount": 10},
             "correct_address": {"shipping_address": {"line": "浙江省杭州市西湖区文三路18号"},
                                 "address": {"province": "浙江省", "key": "CN|330106|文三路|18|"},
                                 "shown_before": {}, "shown_after": {"line": "浙***"}}}
CASE_CTX = {"inspect": {"result": "ok"}}
DISPUTE_CTX = {"prepare": {"evidence": {"tracking": "SF1234567890"}},
               "reopen": {"reason": "fraudulent", "due_by": START},
               "escalate": {"reason": "fraudulent", "due_by": START},
               "correct_kind": {"kind": "chargeback", "reason": "Stripe shows needs_response"}}


def _order(state: str, trigger: str) -> Order:
    """Paid, or for `capture` authorised and kept for capture; waiting for payment p-1.
    Unpaid while a decision is pending, with no payment started unless one is to fail (money
    then is the other test file's). A packed order to cancel was refunded in full (its guard)."""
    held = {"amount": 100, "payment_ref": "p-1", "capture_by": START.isoformat()}
    deciding = state in ("created", "verifying", "under_review")
    unpaid = trigger == "capture" or deciding
    ref = None if deciding and trigger != "fail_payment" else "p-1"
    return Order(1, "b-1", OrderState(state), 1, "CNY", 100, [OrderLine(1, "SKU-1", 1, 100)],
                 START, paid=0 if unpaid else 100, payment_ref=ref,
                 refunded=100 if (state, trigger) == ("packed", "cancel") else 0,
                 attrs={"authorisation": held} if trigger == "capture" else {})


def _shipment(state: str) -> Shipment:
    return Shipment(1, 1, ShipmentState(state), 1, "WH-1", "sim", "T-1", START)


def _case(state: str, trigger: str) -> AfterSalesCase:
    kind = {"exchange": CaseKind.EXCHANGE, "repair": CaseKind.REPAIR}.get(trigger)
    if kind is None:
        refund_only = trigger == "refund" and state != "inspected"
        kind = CaseKind.REFUND_ONLY if refund_only else CaseKind.RETURN_REFUND
    inspection = Inspection.OK if state == "inspected" else None
    return AfterSalesCase(1, 1, kind, CaseState(state), 1, "broken", (CaseLine(1, 1, 100),),
                          START, inspection=inspection)


def _dispute(state: str) -> Dispute:
    return Dispute(1, 1, "shopify", "285332461850454", "p-1", DisputeState(state), 1, 100,
                   "CNY", START, kind=DisputeKind.INQUIRY, reason="fraudulent")


MACHINES = {
    "order": (ORDER_LIFECYCLE, ORDER_TABLE, _order, ORDER_CTX),
    "shipment": (SHIPMENT_LIFECYCLE, SHIPMENT_TABLE, lambda s, t: _shipment(s), {}),
    "case": (CASE_LIFECYCLE, CASE_TABLE, _case, CASE_CTX),
    "dispute": (DISPUTE_LIFECYCLE, DISPUTE_TABLE, lambda s, t: _dispute(s), DISPUTE_CTX),
}

CASES = [(name, state, trigger)
         for name, (lifecycle, table, _, _) in MACHINES.items()
         for state in table for trigger in lifecycle.triggers]


def test_the_tables_cover_every_state_of_every_machine():
    for lifecycle, table, _, _ in MACHINES.values():
        assert set(table) == {s.value for s in lifecycle.states}


@pytest.mark.parametrize(("machine", "state", "trigger"), CASES)
def test_every_trigger_from_every_state_does_what_the_table_says(machine, state, trigger):
    lifecycle, table, make, ctxs = MACHINES[machine]
    model = make(state, trigger)
    expected = table[state].get(trigger)
    # asked before firing, `refusal` answers what `fire` does (None for a step it takes)
    asked = lifecycle.refusal(model, trigger)
    if expected is None:
        with pytest.raises(InvalidTransition) as refused:
            lifecycle.fire(model, trigger, at=START, actor="t", **ctxs.get(trigger, {}))
        assert model.state == state
        assert sorted(refused.value.allowed) == sorted(table[state])
        assert state in str(refused.value) and trigger in str(refused.value)
        assert asked is not None and (str(asked), vars(asked)) == (str(refused.value),
                                                                   vars(refused.value))
    else:
        assert asked is None
        fired = lifecycle.fire(model, trigger, at=START, actor="t", **ctxs.get(trigger, {}))
        assert (fired.from_state, fired.to_state, model.state) == (state, expected, expected)


def test_closing_an_inquiry_books_nothing_and_clears_its_alert_and_reopening_arms_it_again():
    dispute = _dispute("opened")
    dispute.evidence_due_by = START + timedelta(days=10)
    closed = DISPUTE_LIFECYCLE.fire(dispute, "close", at=START, actor="shopify",
                                    reason="Shopify: lost")
    assert (dispute.booked, dispute.unbooked, closed.arm) == (0, 0, ())
    assert [k.value for k in closed.clear] == ["dispute_evidence"]
    due = START + timedelta(days=30)
    reopened = DISPUTE_LIFECYCLE.fire(dispute, "reopen", at=START, actor="shopify",
                                      reason="product_not_received", due_by=due)
    assert (dispute.kind, dispute.reason, dispute.evidence_due_by) == (
        DisputeKind.CHARGEBACK, "product_not_received", due)
    assert [(k.value, at) for k, at in reopened.arm] == [
        ("dispute_evidence", due - timedelta(hours=48))]


@pytest.mark.parametrize("state", ["opened", "evidence_due", "submitted"])
def test_escalating_an_open_inquiry_makes_it_the_chargeback_and_arms_its_own_alert(state):
    # Given an inquiry, open in `state`, its alert armed 48 h before its due date
    dispute = _dispute(state)
    dispute.evidence_due_by = START + timedelta(days=10)
    # When the bank turns it into a chargeback for less, due later
    due = START + timedelta(days=30)
    fired = DISPUTE_LIFECYCLE.fire(dispute, "escalate", at=START, actor="shopify",
                                   reason="product_not_received, network code 13.1",
                                   due_by=due, amount=80)
    # Then the dispute is the chargeback, unanswered again, its alert moved to the new date
    assert (dispute.state, dispute.kind, dispute.reason, dispute.evidence_due_by,
            dispute.amount) == ("opened", DisputeKind.CHARGEBACK,
                                "product_not_received, network code 13.1", due, 80)
    assert [(k.value, at) for k, at in fired.arm] == [
        ("dispute_evidence", due - timedelta(hours=48))]
    # (the inquiry's row is cleared where the state before kept it; submitted kept none)
    assert [k.value for k in fired.clear] == ([] if state == "submitted"
                                              else ["dispute_evidence"])
    assert (fired.payload["kind"], fired.payload["amount"], fired.payload["amount_before"]) == (
        "chargeback", 80, 100)


def test_a_chargeback_is_not_escalated_again():
    dispute = _dispute("opened")
    dispute.kind = DisputeKind.CHARGEBACK
    with pytest.raises(GuardRejected, match="is a chargeback already"):
        DISPUTE_LIFECYCLE.fire(dispute, "escalate", at=START, actor="shopify",
                               reason="fraudulent", due_by=START)
    assert (dispute.state, dispute.kind) == ("opened", DisputeKind.CHARGEBACK)
