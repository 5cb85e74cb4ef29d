"""Money that arrives while a person (risk review) or the buyer (verification) decides is kept:
the order stays where it is, paid; approving it makes it paid, rejecting it refunds the money.

Before, `pay` was refused in these states: a Shopify order paid at checkout and held for review
lost its payment (the order was approved unpaid, then expired), and a gateway's webhook got a
409 for money it had taken."""

from __future__ import annotations

from datetime import timedelta

import pytest

from statemachine.errors import GuardRejected
from statemachine.lifecycle import StockIntent
from statemachine.order import ORDER_LIFECYCLE, takes_payment
from statemachine.order_aggregate import Order, OrderLine, OrderState
from statemachine.policies import DeadlineKind
from tests.conftest import START

DECIDING = (OrderState.UNDER_REVIEW, OrderState.VERIFYING)
TOTAL = 699_900  # fen: ¥6,999.00
PAY = {"amount": TOTAL, "payment_ref": "alipay-2026112722001"}


def order(state: OrderState, **kw) -> Order:
    return Order(7, "b-1001", state, 3, "CNY", TOTAL, [OrderLine(1, "PHONE-X1-256G", 1, TOTAL)],
                 START, **kw)


def fire(o: Order, trigger: str, **kw):
    return ORDER_LIFECYCLE.fire(o, trigger, at=START, actor="t", **kw)


@pytest.mark.parametrize("state", DECIDING)
def test_money_while_a_decision_is_pending_is_kept_and_the_order_stays(state):
    o = order(state)
    assert takes_payment(o)
    fired = fire(o, "pay", **PAY)
    assert (o.state, o.paid, o.payment_ref) == (state, TOTAL, PAY["payment_ref"])
    assert (fired.event, fired.to_state, fired.stock) == ("paid_before_decision", state.value,
                                                          ())  # the stock stays held
    assert not takes_payment(o)  # a second payment is late money (refunded)


@pytest.mark.parametrize("state", DECIDING)
def test_a_second_payment_or_an_authorisation_is_refused_while_deciding(state):
    paid = order(state, paid=TOTAL, payment_ref="p-first")
    with pytest.raises(GuardRejected, match="already paid by p-first"):
        fire(paid, "pay", amount=TOTAL, payment_ref="p-second")
    assert (paid.paid, paid.payment_ref) == (TOTAL, "p-first")
    unpaid = order(state)
    with pytest.raises(GuardRejected, match="takes captured money, not an authorisation"):
        fire(unpaid, "pay", **PAY, capture_by=START + timedelta(days=7))
    assert (unpaid.paid, unpaid.attrs) == (0, {})
    with pytest.raises(GuardRejected, match="amount must equal the order total"):
        fire(unpaid, "pay", amount=TOTAL - 1, payment_ref="p-short")


@pytest.mark.parametrize("state", DECIDING)
def test_approving_a_paid_order_makes_it_paid_and_consumes_its_stock(state):
    o = order(state, paid=TOTAL, payment_ref="p-1")
    fired = fire(o, "approve", hold_until=START + timedelta(minutes=20), reason="ok")
    assert (o.state, o.hold_expires_at, fired.event) == (OrderState.PAID, None, "paid")
    assert fired.stock == (StockIntent.CONSUME,)
    waiting = {OrderState.UNDER_REVIEW: DeadlineKind.REVIEW_SLA,
               OrderState.VERIFYING: DeadlineKind.VERIFICATION_DUE}[state]
    assert waiting in fired.clear and not fired.arm  # nothing to capture: no timer


@pytest.mark.parametrize("state", DECIDING)
def test_approving_an_unpaid_order_still_starts_the_hold(state):
    o = order(state)
    fired = fire(o, "approve", hold_until=START + timedelta(minutes=20))
    assert (o.state, o.hold_expires_at) == (OrderState.AWAITING_PAYMENT,
                                            START + timedelta(minutes=20))
    assert fired.stock == () and [k for k, _ in fired.arm] == [DeadlineKind.HOLD_EXPIRY]


@pytest.mark.parametrize("state", DECIDING)
def test_rejecting_a_paid_order_counts_its_money_as_refunded(state):
    o = order(state, paid=TOTAL, payment_ref="p-1")
    fired = fire(o, "reject", reason="stolen card")
    assert (o.state, o.refunded) == (OrderState.REJECTED, TOTAL)
    assert fired.payload == {"refund": TOTAL, "reason": "stolen card"}  # settle job reads it
    assert fired.stock == (StockIntent.RELEASE,)
    unpaid = order(state)
    assert fire(unpaid, "reject", reason="stolen card").payload == {"reason": "stolen card"}
    assert unpaid.refunded == 0


def test_only_an_order_waiting_for_money_or_a_decision_takes_a_payment():
    takes = {s for s in OrderState if takes_payment(order(s))}
    assert takes == {OrderState.AWAITING_PAYMENT, OrderState.PAYMENT_PENDING,
                     OrderState.UNDER_REVIEW, OrderState.VERIFYING}


APPROVE = {"hold_until": START + timedelta(minutes=20), "pay_by": START + timedelta(hours=72)}
STARTED = {"amount": TOTAL, "payment_ref": "bank-2026112700042"}


@pytest.mark.parametrize("state", DECIDING)
def test_approving_an_order_with_a_payment_started_meanwhile_waits_for_that_payment(state):
    # A bank transfer started while the decision was pending is remembered ...
    o = order(state)
    started = fire(o, "start_payment", **STARTED, pay_by=START + timedelta(hours=72))
    assert (o.state, o.payment_ref, o.paid) == (state, STARTED["payment_ref"], 0)
    assert started.event == "payment_started_before_decision"
    # ... and approval waits for it, until its own deadline (not a 20-minute hold that lapses
    # before it settles: the order expired and the money came back as late money)
    fired = fire(o, "approve", **APPROVE)
    assert (o.state, o.hold_expires_at) == (OrderState.PAYMENT_PENDING, APPROVE["pay_by"])
    assert [k for k, _ in fired.arm] == [DeadlineKind.PAYMENT_DUE] and fired.stock == ()
    # A second payment started meanwhile is not the one it waits for
    other = order(state, payment_ref=STARTED["payment_ref"])
    with pytest.raises(GuardRejected, match="was started already"):
        fire(other, "start_payment", amount=TOTAL, payment_ref="wx-4200001")


@pytest.mark.parametrize("state", DECIDING)
def test_a_payment_that_failed_before_the_decision_is_not_waited_for(state):
    o = order(state, payment_ref=STARTED["payment_ref"])
    fire(o, "fail_payment", payment_ref=STARTED["payment_ref"], reason="余额不足")
    assert (o.state, o.payment_ref) == (state, None)
    assert fire(o, "approve", **APPROVE).to_state == "awaiting_payment"
    paid = order(state, paid=TOTAL, payment_ref="p-1")  # a failure never unpays an order
    with pytest.raises(GuardRejected):
        fire(paid, "fail_payment", payment_ref="p-1")
