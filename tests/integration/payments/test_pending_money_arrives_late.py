"""Adversarial: the money of a *started* payment (payment_pending) that arrives after the order
left payment_pending — its deadline passed, or the buyer cancelled. The order's payment_ref is
that very payment, so 'already recorded' must not swallow it: money moved at the provider."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from integrations.db.audit import audit
from integrations.service import money
from statemachine.ports import PaymentResult
from tests.conftest import START
from tests.fakes import stripe_events as se
from tests.integration.payments.test_payment_pending import _level, _processing, stripe_shop
from tests.integration.payments.test_stripe_webhooks import Shop


@pytest.fixture
def shop(any_url, clock, monkeypatch) -> Iterator[Shop]:
    yield from stripe_shop(any_url, clock, monkeypatch)


@pytest.fixture
def reviving_shop(any_url, clock, monkeypatch) -> Iterator[Shop]:
    yield from stripe_shop(any_url, clock, monkeypatch, late_payments="revive")


def _pending_then_expired(shop) -> tuple[str, str]:
    order_id, pi = shop.order_awaiting_payment()
    _processing(shop, pi)
    assert shop.pilot.sweep(START + timedelta(hours=72, minutes=1))["payment_due"] == 1
    assert shop.pilot.orders.get(order_id).state == "expired"
    _settles(shop, pi)  # late
    return order_id, pi


def _settles(shop, pi: str) -> None:
    shop.stripe.intents[pi]["status"] = "requires_payment_method"
    shop.stripe.authorise(pi)
    shop.stripe._capture(pi, {})


def _records(shop, order_id: str) -> list[tuple[str, int]]:
    with shop.pilot.context.tx(readonly=True) as tx:
        return [(k, a) for k, a in tx.store.sql.all(
            "SELECT kind, amount FROM payment_records WHERE order_id = :o ORDER BY id",
            {"o": int(order_id[2:])})]


def test_a_pending_payment_settling_after_its_deadline_is_refunded(shop):
    order_id, pi = _pending_then_expired(shop)
    response = shop.deliver("payment_intent.succeeded", se.intent(shop.stripe.intents[pi]))
    assert response.status_code == 200 and response.json()["applied"] is True, response.text
    [refund] = shop.stripe.calls("POST", "/v1/refunds")
    assert refund.headers["idempotency-key"] == f"late-refund:stripe:{pi}"
    assert ("late_capture", 9998) in _records(shop, order_id)
    assert shop.pilot.orders.get(order_id).state == "expired"
    # a second delivery of the same money (another event id) refunds nothing more
    again = shop.deliver("payment_intent.succeeded", se.intent(shop.stripe.intents[pi]))
    assert again.status_code == 200
    assert len(shop.stripe.calls("POST", "/v1/refunds")) == 1
    # and the money sweep does not try to release (void) a payment that was captured
    shop.pilot.payments.sweep(START + timedelta(hours=80))
    assert shop.stripe.calls("POST", f"/v1/payment_intents/{pi}/cancel") == []
    assert _failed_operations(shop, order_id) == []
    with shop.pilot.context.engine.connect() as connection:
        assert audit(connection) == []


def _failed_operations(shop, order_id: str) -> list[tuple[str, str]]:
    with shop.pilot.context.tx(readonly=True) as tx:
        return [(k, e) for k, e in tx.store.sql.all(
            "SELECT idem_key, error FROM payment_operations WHERE order_id = :o AND "
            "status = 'failed'", {"o": int(order_id[2:])})]


def test_a_pending_payment_settling_after_its_deadline_revives_the_order(reviving_shop):
    shop = reviving_shop
    order_id, pi = _pending_then_expired(shop)
    response = shop.deliver("payment_intent.succeeded", se.intent(shop.stripe.intents[pi]))
    assert response.status_code == 200 and "revived" in response.json()["note"], response.text
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.paid) == ("paid", 9998) and _level(shop) == (8, 0)
    assert shop.stripe.calls("POST", "/v1/refunds") == []
    with shop.pilot.context.engine.connect() as connection:
        assert audit(connection) == []


def test_a_pending_payment_cancelled_by_the_buyer_then_settling_is_refunded(shop):
    order_id, pi = shop.order_awaiting_payment()
    _processing(shop, pi)
    assert shop.pilot.orders.fire(order_id, "cancel", reason="买家不想要了").state == "cancelled"
    _settles(shop, pi)
    response = shop.deliver("payment_intent.succeeded", se.intent(shop.stripe.intents[pi]))
    assert response.status_code == 200 and response.json()["applied"] is True, response.text
    [refund] = shop.stripe.calls("POST", "/v1/refunds")
    assert refund.headers["idempotency-key"] == f"late-refund:stripe:{pi}"
    assert shop.pilot.orders.get(order_id).state == "cancelled"


def test_a_dashboard_refund_is_booked_even_after_a_second_payment_was_refunded(shop):
    # Given an order paid by one intent, and the buyer's second intent refunded as late money
    order_id, pi = shop.paid_order()
    dup = "pi_dup_second_tab"
    shop.stripe.intents[dup] = dict(shop.stripe.intents[pi], id=dup, latest_charge=None,
                                    status="requires_payment_method", amount_received=0)
    shop.stripe.authorise(dup)
    shop.stripe._capture(dup, {})
    late = shop.deliver("payment_intent.succeeded", se.intent(shop.stripe.intents[dup]))
    assert late.status_code == 200 and "refund" in late.json()["note"], late.text
    assert len(shop.stripe.calls("POST", "/v1/refunds")) == 1
    assert shop.pilot.orders.get(order_id).refunded == 0  # the order never took that money
    # When finance refunds 3000 of the order's own payment in Stripe's dashboard
    charge_id = shop.stripe.intents[pi]["latest_charge"]
    shop.stripe.charges[charge_id]["amount_refunded"] += 3000
    response = shop.deliver("charge.refunded",
                            se.charge(charge_id, shop.stripe.intents[pi], refunded=3000))
    # Then the order books it (the other payment's refund is not this payment's)
    assert response.status_code == 200 and response.json()["applied"] is True, response.text
    assert shop.pilot.orders.get(order_id).refunded == 3000


def _paid_twice(shop) -> tuple[str, str, str]:
    """An authorisation whose capture failed transiently (the order waits in pending), and
    the buyer, seeing nothing happen, paying again with another card, which settles."""
    order_id, pi = shop.order_awaiting_payment()
    shop.stripe.authorise(pi)
    shop.stripe.fail_next(times=3, status=503)
    shop.deliver("payment_intent.amount_capturable_updated", se.intent(shop.stripe.intents[pi]))
    assert shop.pilot.orders.get(order_id).state == "payment_pending"
    dup = "pi_second_card"
    shop.stripe.intents[dup] = dict(shop.stripe.intents[pi], id=dup, latest_charge=None,
                                    status="requires_payment_method", amount_capturable=0)
    shop.stripe.authorise(dup)
    shop.stripe._capture(dup, {})
    paid = shop.deliver("payment_intent.succeeded", se.intent(shop.stripe.intents[dup]))
    assert paid.status_code == 200 and shop.pilot.orders.get(order_id).payment_ref == dup
    return order_id, pi, dup


def test_a_capture_retried_after_another_payment_paid_the_order_is_not_made(shop):
    order_id, pi, _ = _paid_twice(shop)
    # When the money sweep comes to retry the first capture
    shop.pilot.payments.sweep(START + timedelta(minutes=10))
    # Then it is not made (the buyer is not charged twice); staff are told why
    assert shop.stripe.calls("POST", f"/v1/payment_intents/{pi}/capture")[-1].answered == 503
    [(key, error)] = _failed_operations(shop, order_id)
    assert key == f"capture:{order_id}" and "no longer waits for payment" in error
    # and its authorisation is released at once, not left holding the buyer's money
    [void] = shop.stripe.calls("POST", f"/v1/payment_intents/{pi}/cancel")
    assert void.headers["idempotency-key"] == f"void:{order_id}:{pi}"
    assert shop.stripe.intents[pi]["status"] == "canceled"
    assert shop.pilot.orders.get(order_id).paid == shop.stripe.intents[pi]["amount"]


def test_a_capture_made_just_after_another_payment_paid_the_order_is_refunded(shop):
    order_id, pi, _ = _paid_twice(shop)
    # When the first capture had been made just before (its answer booked after the second
    # payment paid the order)
    shop.stripe._capture(pi, {})
    key = f"capture:{order_id}"
    money.settle(shop.pilot.context, key, PaymentResult(
        "capture", shop.stripe.intents[pi]["latest_charge"], pi, 9998, "CNY", key),
        shop.pilot.clock.now())
    # Then that second charge is refunded automatically, as late money is, not left to ops
    shop.pilot.payments.sweep(START + timedelta(minutes=20))
    refunds = shop.stripe.calls("POST", "/v1/refunds")
    assert [r.headers["idempotency-key"] for r in refunds] == [f"late-refund:stripe:{pi}"]
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.paid, order.refunded) == ("paid", 9998, 0)
    with shop.pilot.context.engine.connect() as connection:
        assert audit(connection) == []


@pytest.fixture
def ship_shop(any_url, clock, monkeypatch) -> Iterator[Shop]:
    yield from stripe_shop(any_url, clock, monkeypatch, capture_at="shipping")


def test_a_capture_recorded_before_the_buyer_cancelled_is_not_made(ship_shop):
    # Given an order paid on an authorisation whose lapse-capture the sweep has recorded
    shop = ship_shop
    order_id, pi = shop.order_awaiting_payment()
    shop.stripe.authorise(pi)
    shop.deliver("payment_intent.amount_capturable_updated", se.intent(shop.stripe.intents[pi]))
    assert shop.pilot.sweep(START + timedelta(days=6, minutes=1))["authorisation_expiry"] == 1
    # When the buyer cancels before the money sweep makes that capture
    cancelled = shop.pilot.orders.fire(order_id, "cancel", reason="不要了")
    assert (cancelled.state, cancelled.payment_status) == ("cancelled", "unpaid")
    shop.pilot.payments.sweep(START + timedelta(days=6, minutes=10))
    shop.pilot.payments.sweep(START + timedelta(days=6, minutes=20))
    # Then the buyer's money is never taken: the authorisation is released, not captured
    assert shop.stripe.calls("POST", f"/v1/payment_intents/{pi}/capture") == []
    assert shop.stripe.intents[pi]["status"] == "canceled"
    assert shop.stripe.calls("POST", "/v1/refunds") == []
    with shop.pilot.context.engine.connect() as connection:
        assert audit(connection) == []


def test_the_answer_to_stripe_carries_no_personal_data_of_the_buyer(shop):
    # Stripe keeps webhook response bodies in its dashboard's delivery log: a third party
    order_id, pi = shop.order_awaiting_payment()
    shop.stripe.authorise(pi)
    kind, intent = "payment_intent.amount_capturable_updated", se.intent(shop.stripe.intents[pi])
    body = se.event(kind, intent)
    for _ in range(2):  # the answer, and the same answer replayed from our log
        response = shop.deliver(kind, intent, body=body)
        text = response.text
        assert response.status_code == 200 and order_id in text, text
        for personal in ("13800138000", "李雷", "文三路18号"):
            assert personal not in text, text
        assert response.json()["order"]["shipping_address"]["city"] == "杭州市"


def test_dollars_for_an_expired_yuan_order_never_revive_it_and_go_back_in_dollars(
        reviving_shop):
    # Given the revive policy, and an order of ¥99.98 whose hold lapsed while the buyer paid
    # its intent in dollars (US$99.98: the same number of minor units)
    shop = reviving_shop
    order_id, pi = shop.order_awaiting_payment()
    shop.stripe.intents[pi]["currency"] = "usd"
    shop.pilot.sweep(START + timedelta(minutes=21))
    assert shop.pilot.orders.get(order_id).state == "expired"
    shop.stripe.authorise(pi)
    shop.stripe._capture(pi, {})
    # When Stripe reports the money
    response = shop.deliver("payment_intent.succeeded", se.intent(shop.stripe.intents[pi]))
    # Then it is not the order's payment: the order stays expired (before: revived and paid
    # ¥99.98 with US$99.98 — the revive step compares amounts only), and the dollars are late
    # money, booked and refunded in dollars
    assert response.status_code == 200, response.text
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.paid) == ("expired", 0)
    [refund] = shop.stripe.calls("POST", "/v1/refunds")
    assert refund.headers["idempotency-key"] == f"late-refund:stripe:{pi}"
    with shop.pilot.context.tx(readonly=True) as tx:
        booked = tx.store.sql.all("SELECT kind, amount, currency FROM payment_records WHERE "
                                  "order_id = :o ORDER BY id", {"o": int(order_id[2:])})
    assert [tuple(r) for r in booked] == [("late_capture", 9998, "USD"),
                                          ("refund", 9998, "USD")]
