"""The default (simulated) gateway refuses a refund a real provider would refuse — beyond what
is left of the payment, or of a payment charged back (not one under inquiry: nothing was taken)
— however many processes share the store; and a capture or a release (void) of a payment the
store never booked, or booked as captured.

Each pilot below stands for a process of its own: its own gateway, nothing in memory shared
with the other, one store between them (a SQLite file, or PostgreSQL)."""

from __future__ import annotations

import pytest

from integrations.console.jobs import Ports, settle_cancel
from integrations.db.money_store import MoneyStore
from integrations.ingest.money_events import apply_money_event
from integrations.service import money
from orderpilot import OrderPilot
from statemachine.money import OperationKind
from statemachine.ports import MoneyEvent, PermanentPaymentError
from statemachine.risk_port import approve_everything
from tests.factories import order_request, paid_order, stock


def _pilot(url: str, clock) -> OrderPilot:
    return OrderPilot(url, clock=clock, risk_check=approve_everything)  # default gateway


def _ports(pilot: OrderPilot) -> Ports:
    return Ports(gateway=pilot.context.gateway, carrier=None, notify=lambda message: None,
                 retry_delays=(0.01,))


def test_a_payment_refunded_by_one_process_is_not_refunded_again_by_another(any_url, clock):
    # Given an order of two ¥35 cups paid, cancelled, and refunded in full by one process
    first, second = _pilot(any_url, clock), _pilot(any_url, clock)
    stock(first)
    order = paid_order(first, quantity=2, unit_price=3_500)
    first.orders.fire(order.id, "cancel", reason="买家不要了")
    assert settle_cancel(first.context, _ports(first), order.id) == "refunded"
    # When another process's gateway is asked to refund the payment again
    with pytest.raises(PermanentPaymentError) as refused:
        second.context.gateway.refund(order.payment_ref, 7_000,
                                      idempotency_key="refund:again")
    # Then it refuses, as Stripe would (before: it adopted the payment with no limit and paid
    # the buyer ¥70 twice)
    assert "(charge_already_refunded)" in str(refused.value)
    first.close()
    second.close()


def test_a_payment_the_store_never_booked_is_not_refunded(any_url, clock):
    # Given a store that knows nothing of payment pay-404
    pilot = _pilot(any_url, clock)
    # When the default gateway is asked to refund it
    with pytest.raises(PermanentPaymentError) as refused:
        pilot.context.gateway.refund("pay-404", 100, idempotency_key="refund:c-404")
    # Then it refuses (before: it adopted it as captured with no limit and paid ¥1)
    assert "pay-404" in str(refused.value)
    pilot.close()


def test_a_payment_under_an_open_dispute_is_not_refunded(any_url, clock):
    # Given a ¥70 order paid, and the buyer's bank disputing ¥30 of it (reported by webhook
    # to one process)
    pilot, other = _pilot(any_url, clock), _pilot(any_url, clock)
    stock(pilot)
    order = paid_order(pilot, quantity=2, unit_price=3_500)
    apply_money_event(pilot.context, MoneyEvent(
        "simulated", "e-1", "dispute_opened", order.payment_ref, 3_000, "CNY", clock.now(),
        order_id=order.id, dispute_ref="dp-1", reason="fraudulent"))
    # When the gateway of another process is asked to refund the ¥40 not disputed (recorded
    # here as a cancellation's refund is, bypassing the store's own refusal: a cancellation
    # records no such refund any more, test_cancel_with_dispute_open.py)
    with pilot.context.tx() as tx:
        locked = tx.store.get_order(int(order.id[2:]), lock=True)
        money.request(pilot.context, tx, locked, OperationKind.REFUND, 4_000,
                      f"cancel-refund:{order.id}", "system:settle-cancel",
                      purpose={"cancel": order.id}, at=clock.now())
    done = money.execute(other.context, f"cancel-refund:{order.id}", clock.now())
    # Then it refuses, as Stripe refuses to refund a disputed charge (before: the ¥40 was
    # paid while the bank decided)
    assert (done.status.value, "(charge_disputed)" in (done.error or "")) == ("failed", True)
    pilot.close()
    other.close()


def test_a_cancellation_during_an_open_inquiry_refunds_everything_paid(any_url, clock):
    # Given a ¥70 order paid, and the buyer's bank asking about ¥30 of it — an inquiry, no
    # money taken (reported by webhook to one process)
    pilot, other = _pilot(any_url, clock), _pilot(any_url, clock)
    stock(pilot)
    order = paid_order(pilot, quantity=2, unit_price=3_500)
    apply_money_event(pilot.context, MoneyEvent(
        "simulated", "e-1", "dispute_opened", order.payment_ref, 3_000, "CNY", clock.now(),
        order_id=order.id, dispute_ref="dp-1", reason="fraudulent", dispute_kind="inquiry"))
    with pilot.context.tx(readonly=True) as tx:
        assert MoneyStore(tx.store.sql).reserved(int(order.id[2:])).disputed == 0
    pilot.orders.fire(order.id, "cancel", reason="买家不要了")
    # When the console of another process settles the cancellation
    outcome = settle_cancel(other.context, _ports(other), order.id)
    # Then the whole ¥70 is refunded, as Stripe refunds a charge under inquiry (before: the
    # inquiry's ¥30 was held back as if taken, and the gateway refused the ¥40 as disputed)
    assert outcome == "refunded"
    with other.context.tx(readonly=True) as tx:
        operations = MoneyStore(tx.store.sql).of_order(int(order.id[2:]))
    assert [(o.kind.value, o.amount, o.status.value) for o in operations] == [
        ("refund", 7_000, "succeeded")]
    assert other.orders.get(order.id).refunded == 7_000
    pilot.close()
    other.close()


def _notice(pilot: OrderPilot, order, kind: str, payment_ref: str):
    event = MoneyEvent("simulated", f"evt-{kind}-{payment_ref}", kind, payment_ref,
                       order.total, "CNY", pilot.clock.now(), order_id=order.id)
    return apply_money_event(pilot.context, event)


def test_a_payment_the_store_never_booked_is_neither_captured_nor_released(any_url, clock):
    # Given a store that knows nothing of payments pay-404 and pay-405
    pilot = _pilot(any_url, clock)
    # When the default gateway is asked to capture one and release (void) the other
    with pytest.raises(PermanentPaymentError) as capture:
        pilot.context.gateway.capture("pay-404", 100, "CNY", idempotency_key="capture:x")
    with pytest.raises(PermanentPaymentError) as void:
        pilot.context.gateway.void("pay-405", idempotency_key="void:x")
    # Then it refuses both, naming them, as Stripe answers an unknown PaymentIntent (before:
    # it adopted them, capturing ¥1 in no currency, releasing sys.maxsize)
    assert "no payment pay-404 authorised" in str(capture.value)
    assert "no payment pay-405 authorised" in str(void.value)
    assert "(resource_missing)" in str(capture.value)
    pilot.close()


def test_an_authorisation_reported_to_one_process_is_captured_by_another(any_url, clock):
    # Given a ¥70 order whose authorisation the provider reported to one process, which
    # recorded the capture and stopped before making it
    first, second = _pilot(any_url, clock), _pilot(any_url, clock)
    stock(first)
    order = first.orders.place(**order_request(quantity=2, unit_price=3_500))
    outcome, [key] = _notice(first, order, "authorised", "pi-auth-1")
    assert "capture requested" in outcome.body["note"]
    # When another process makes it (the money sweep's retry)
    operation = money.execute(second.context, key, second.clock.now())
    # Then its gateway adopts the payment as the store booked it, and the order is paid
    assert (operation.status.value, operation.amount) == ("succeeded", 7_000)
    assert second.orders.get(order.id).paid == 7_000
    # And a captured payment is neither captured again nor released, by any process
    with pytest.raises(PermanentPaymentError, match="pi-auth-1 is captured"):
        first.context.gateway.capture("pi-auth-1", 7_000, "CNY", idempotency_key="again")
    with pytest.raises(PermanentPaymentError, match="pi-auth-1 was captured: refund it"):
        first.context.gateway.void("pi-auth-1", idempotency_key="void:again")
    first.close()
    second.close()


def test_an_authorisation_for_an_expired_order_is_released_by_another_process(any_url, clock):
    # Given an order that expired unpaid, and the buyer's card authorised after all (reported
    # to one process, which recorded the release)
    first, second = _pilot(any_url, clock), _pilot(any_url, clock)
    stock(first)
    order = first.orders.place(**order_request(quantity=1))
    clock.advance(minutes=31)
    first.sweep()
    outcome, [key] = _notice(first, order, "authorised", "pi-late-1")
    assert "released" in outcome.body["note"]
    # When another process makes the release, Then the provider releases it
    assert money.execute(second.context, key, second.clock.now()).status.value == "succeeded"
    first.close()
    second.close()
