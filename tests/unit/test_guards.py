"""Guards refuse with a sentence a person can act on, and a refused fire changes nothing."""

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
from statemachine.errors import GuardRejected
from statemachine.order import ORDER_LIFECYCLE
from statemachine.order_aggregate import Order, OrderState
from statemachine.shipment import SHIPMENT_LIFECYCLE, Shipment, ShipmentState
from tests.conftest import START


def order(state: OrderState, **kw) -> Order:
    return Order(7, "b-1", state, 3, "CNY", 3998, [], START, **kw)


def test_paying_less_than_the_total_is_refused_and_nothing_changes():
    o = order(OrderState.AWAITING_PAYMENT)
    with pytest.raises(GuardRejected, match="amount must equal the order total 3998"):
        ORDER_LIFECYCLE.fire(o, "pay", at=START, actor="t", amount=1000, payment_ref="p")
    assert (o.state, o.paid, o.version) == (OrderState.AWAITING_PAYMENT, 0, 3)


def test_paying_without_a_payment_reference_is_refused():
    with pytest.raises(GuardRejected, match="payment_ref is required"):
        ORDER_LIFECYCLE.fire(order(OrderState.AWAITING_PAYMENT), "pay", at=START, actor="t",
                             amount=3998)


def test_a_hold_cannot_expire_before_its_time():
    o = order(OrderState.AWAITING_PAYMENT, hold_expires_at=START + timedelta(minutes=5))
    with pytest.raises(GuardRejected, match="stock hold runs until"):
        ORDER_LIFECYCLE.fire(o, "expire", at=START, actor="sweep")
    fired = ORDER_LIFECYCLE.fire(o, "expire", at=START + timedelta(minutes=5), actor="sweep")
    assert fired.to_state == "expired"


def test_refunds_can_never_exceed_what_was_paid():
    o = order(OrderState.DELIVERED, paid=3998, refunded=3000)
    with pytest.raises(GuardRejected, match="would exceed what was paid"):
        ORDER_LIFECYCLE.fire(o, "refund", at=START, actor="t", amount=999)
    ORDER_LIFECYCLE.fire(o, "refund", at=START, actor="t", amount=998)
    assert o.refunded == o.paid == 3998


def test_an_order_is_not_delivered_while_a_parcel_is_still_out():
    with pytest.raises(GuardRejected, match="1 parcel"):
        ORDER_LIFECYCLE.fire(order(OrderState.SHIPPED), "deliver", at=START, actor="t",
                             open_parcels=1)


def test_cancelling_a_paid_order_refunds_everything_paid():
    o = order(OrderState.PAID, paid=3998)
    fired = ORDER_LIFECYCLE.fire(o, "cancel", at=START, actor="buyer", reason="changed mind")
    assert (o.refunded, fired.payload["refund"]) == (3998, 3998)


def test_a_stalled_parcel_moves_again_on_the_next_scan():
    s = Shipment(1, 1, ShipmentState.IN_TRANSIT, 1, "WH-1", "sim", "T1", START)
    SHIPMENT_LIFECYCLE.fire(s, "stall", at=START, actor="watch", reason="no scan")
    assert s.stall_reason == "no scan"
    SHIPMENT_LIFECYCLE.fire(s, "scan", at=START + timedelta(hours=1), actor="carrier")
    assert (s.state, s.stall_reason, s.last_scan_at) == ("in_transit", None,
                                                          START + timedelta(hours=1))


def case(kind: CaseKind, state: CaseState, inspection=None) -> AfterSalesCase:
    return AfterSalesCase(1, 1, kind, state, 1, "r", (CaseLine(1, 2, 500),), START,
                          inspection=inspection)


def test_a_return_is_refunded_only_after_inspection():
    c = case(CaseKind.RETURN_REFUND, CaseState.APPROVED)
    with pytest.raises(GuardRejected, match="must be inspected"):
        CASE_LIFECYCLE.fire(c, "refund", at=START, actor="t")


def test_a_mismatched_return_is_not_refunded():
    c = case(CaseKind.RETURN_REFUND, CaseState.INSPECTED, Inspection.MISMATCH)
    with pytest.raises(GuardRejected, match="mismatch"):
        CASE_LIFECYCLE.fire(c, "refund", at=START, actor="t")


def test_a_partial_refund_stays_within_the_case_amount():
    c = case(CaseKind.REFUND_ONLY, CaseState.AUTO_APPROVED)
    with pytest.raises(GuardRejected, match="between 1 and 500"):
        CASE_LIFECYCLE.fire(c, "refund", at=START, actor="t", amount=501)
    CASE_LIFECYCLE.fire(c, "refund", at=START, actor="t", amount=400)
    assert c.refunded == 400


def test_an_exchange_case_is_not_settled_by_refund_and_refund_only_has_nothing_to_return():
    with pytest.raises(GuardRejected, match="settled by exchange"):
        CASE_LIFECYCLE.fire(case(CaseKind.EXCHANGE, CaseState.APPROVED), "refund", at=START,
                            actor="t")
    with pytest.raises(GuardRejected, match="nothing to send back"):
        CASE_LIFECYCLE.fire(case(CaseKind.REFUND_ONLY, CaseState.APPROVED), "await_return",
                            at=START, actor="t")


def test_inspection_needs_a_known_result():
    with pytest.raises(GuardRejected, match="result must be one of ok, damaged, mismatch"):
        CASE_LIFECYCLE.fire(case(CaseKind.REPAIR, CaseState.RECEIVED), "inspect", at=START,
                            actor="t", result="meh")


def test_shipping_with_no_parcel_is_refused_so_nothing_passes_as_delivered_empty():
    o = order(OrderState.PACKED, paid=3998)
    with pytest.raises(GuardRejected, match="nothing to ship: no parcel"):
        ORDER_LIFECYCLE.fire(o, "ship", at=START, actor="t", parcels=[])
    assert o.state is OrderState.PACKED


def test_a_failure_notice_for_another_payment_does_not_move_a_pending_order():
    o = order(OrderState.PAYMENT_PENDING, payment_ref="bt-1",
              hold_expires_at=START + timedelta(hours=72))
    with pytest.raises(GuardRejected, match="waits for payment bt-1, not bt-2"):
        ORDER_LIFECYCLE.fire(o, "fail_payment", at=START, actor="t", payment_ref="bt-2",
                             hold_until=START + timedelta(minutes=20))
    assert (o.state, o.payment_ref) == (OrderState.PAYMENT_PENDING, "bt-1")


def test_capture_needs_an_uncaptured_authorisation_of_the_same_amount():
    paid = order(OrderState.PICKING, paid=3998)
    with pytest.raises(GuardRejected, match="no uncaptured authorisation"):
        ORDER_LIFECYCLE.fire(paid, "capture", at=START, actor="t", amount=3998)
    held = order(OrderState.PICKING, attrs={"authorisation": {
        "amount": 3998, "payment_ref": "pi-1", "capture_by": START.isoformat()}})
    with pytest.raises(GuardRejected, match="authorised 3998 \\(got 100\\)"):
        ORDER_LIFECYCLE.fire(held, "capture", at=START, actor="t", amount=100)
    fired = ORDER_LIFECYCLE.fire(held, "capture", at=START, actor="t", amount=3998)
    assert (held.paid, held.authorisation, fired.to_state) == (3998, None, "picking")
    assert fired.clear == ("authorisation_expiry",)


def test_a_cancel_that_refunds_later_keeps_the_money_and_its_refunds_come_after():
    # Given a paid order (¥39.98) cancelled with its refund left to the provider
    o = order(OrderState.PAID, paid=3998, payment_ref="shopify:9")
    fired = ORDER_LIFECYCLE.fire(o, "cancel", at=START, actor="t", refund_later=True)
    # Then nothing is counted refunded, and the provider's later refunds are, up to the paid
    assert (o.state, o.refunded, fired.payload["refund"]) == (OrderState.CANCELLED, 0, 0)
    ORDER_LIFECYCLE.fire(o, "refund", at=START, actor="t", amount=3998)
    with pytest.raises(GuardRejected, match="would exceed what was paid"):
        ORDER_LIFECYCLE.fire(o, "refund", at=START, actor="t", amount=1)


def test_an_authorisation_is_released_on_cancel_not_refunded_later():
    held = {"amount": 3998, "payment_ref": "p", "capture_by": START.isoformat()}
    o = order(OrderState.PAID, paid=3998, payment_ref="p", attrs={"authorisation": held})
    with pytest.raises(GuardRejected, match="released on cancel"):
        ORDER_LIFECYCLE.fire(o, "cancel", at=START, actor="t", refund_later=True)
    assert o.state == OrderState.PAID
