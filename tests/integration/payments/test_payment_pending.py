"""Payments that have not settled: `payment_pending` with its own timer, capture at shipping
with an authorisation-expiry deadline, and late money revived by policy. Stripe end to end (its
SDK against the local stand-in, deliveries verified by its own signature check), both stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from integrations.db.audit import audit
from integrations.service import money_refunds
from orderpilot import OrderPilot
from statemachine.errors import GuardRejected
from statemachine.risk_port import approve_everything
from tests.conftest import START
from tests.fakes import stripe_events as se
from tests.fakes.stripe_api import FakeStripe
from tests.integration.integ.server import running_server
from tests.integration.payments.conftest import stripe_gateway_for
from tests.integration.payments.test_stripe_webhooks import SETTINGS, Shop


def stripe_shop(url: str, clock, monkeypatch, risk=approve_everything, **policy: str
          ) -> Iterator[Shop]:
    """A shop on Stripe (the local stand-in) under these policies (ORDERPILOT_<NAME>)."""
    for name, value in policy.items():
        monkeypatch.setenv(f"ORDERPILOT_{name.upper()}", value)
    with FakeStripe() as stripe:
        gateway = stripe_gateway_for(stripe)
        pilot = OrderPilot(url, clock=clock, risk_check=risk, gateway=gateway)
        with running_server(pilot, payments=SETTINGS) as base:
            shop = Shop(pilot, stripe, base)
            yield shop
            shop.http.close()
        gateway.close()
        pilot.close()


@pytest.fixture
def shop(any_url, clock, monkeypatch) -> Iterator[Shop]:
    yield from stripe_shop(any_url, clock, monkeypatch)


@pytest.fixture
def ship_shop(any_url, clock, monkeypatch) -> Iterator[Shop]:
    yield from stripe_shop(any_url, clock, monkeypatch, capture_at="shipping")


@pytest.fixture
def reviving_shop(any_url, clock, monkeypatch) -> Iterator[Shop]:
    yield from stripe_shop(any_url, clock, monkeypatch, late_payments="revive")


def _timers(shop: Shop, order_id: str) -> dict[str, object]:
    with shop.pilot.context.tx(readonly=True) as tx:
        return {kind: due for kind, due in tx.store.sql.all(
            "SELECT kind, due_at FROM deadlines WHERE entity = 'order' AND entity_id = :n",
            {"n": int(order_id[2:])})}


def _level(shop: Shop) -> tuple[int, int]:
    level = shop.pilot.inventory.level(sku="SKU-1", warehouse="WH-1")
    return level.on_hand, level.reserved


def _processing(shop: Shop, pi: str):
    shop.stripe.intents[pi]["status"] = "processing"
    return shop.deliver("payment_intent.processing", se.intent(
        shop.stripe.intents[pi], payment_method_types=["sepa_debit"]))


def test_a_slow_payment_waits_in_payment_pending_without_extending_the_hold(shop):
    order_id, pi = shop.order_awaiting_payment()
    # When the bank debit starts (Stripe: processing)
    response = _processing(shop, pi)
    # Then the order waits for it with its stock held, on a timer of its own
    assert response.status_code == 200 and response.json()["applied"] is True
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.payment_ref, order.paid) == ("payment_pending", pi, 0)
    assert order.hold_expires_at == START + timedelta(hours=72)
    assert set(_timers(shop, order_id)) == {"payment_due"}
    assert _level(shop) == (10, 2)
    # And the 20-minute hold passing changes nothing (no extend_hold needed)
    shop.pilot.sweep(START + timedelta(hours=2))
    assert shop.pilot.orders.get(order_id).state == "payment_pending"
    # When the money settles
    shop.stripe.intents[pi].update(status="succeeded", amount_received=9998)  # settled
    paid = shop.deliver("payment_intent.succeeded", se.intent(shop.stripe.intents[pi]))
    # Then the order is paid and the payment timer is gone
    assert paid.status_code == 200
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.paid) == ("paid", 9998)
    assert _timers(shop, order_id) == {} and _level(shop) == (8, 0)
    assert [h.trigger for h in shop.pilot.orders.history(order_id)] == [
        "place", "approve", "start_payment", "pay"]


def test_a_payment_that_never_settles_expires_the_order_and_releases_the_stock(shop):
    order_id, pi = shop.order_awaiting_payment()
    _processing(shop, pi)
    # When the payment's deadline passes unsettled
    counts = shop.pilot.sweep(START + timedelta(hours=72, minutes=1))
    # Then the order expires and its stock comes back
    assert counts["payment_due"] == 1
    order = shop.pilot.orders.get(order_id)
    assert order.state == "expired" and _level(shop) == (10, 0)
    expired = shop.pilot.orders.history(order_id)[-1]
    assert (expired.trigger, expired.payload["reason"]) == (
        "expire", "the payment did not settle in time")


def test_a_failed_pending_payment_lets_the_buyer_pay_again_within_a_fresh_hold(shop, clock):
    order_id, pi = shop.order_awaiting_payment()
    _processing(shop, pi)
    clock.advance(hours=5)
    shop.stripe.intents[pi]["status"] = "requires_payment_method"
    failed = shop.deliver("payment_intent.payment_failed", se.intent(
        shop.stripe.intents[pi], last_payment_error={"message": "insufficient funds"}))
    assert failed.status_code == 200 and failed.json()["applied"] is True
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.payment_ref) == ("awaiting_payment", None)
    assert order.hold_expires_at == START + timedelta(hours=5, minutes=20)
    assert set(_timers(shop, order_id)) == {"hold_expiry"} and _level(shop) == (10, 2)
    step = shop.pilot.orders.history(order_id)[-1]
    assert (step.trigger, step.to_state, step.payload["reason"]) == (
        "fail_payment", "awaiting_payment", "insufficient funds")


def test_a_failure_of_another_payment_does_not_move_the_pending_order(shop):
    order_id, pi = shop.order_awaiting_payment()
    _processing(shop, pi)
    other = dict(shop.stripe.intents[pi], id="pi_someone_else",
                 status="requires_payment_method")
    response = shop.deliver("payment_intent.payment_failed", se.intent(other))
    assert response.status_code == 200 and response.json()["applied"] is False
    assert shop.pilot.orders.get(order_id).state == "payment_pending"


def test_capture_at_shipping_fulfils_on_the_authorisation_and_captures_when_it_ships(
        ship_shop):
    shop = ship_shop
    order_id, pi = shop.order_awaiting_payment()
    shop.stripe.authorise(pi)
    # When Stripe reports the authorisation
    response = shop.deliver("payment_intent.amount_capturable_updated",
                            se.intent(shop.stripe.intents[pi]))
    # Then the order may be fulfilled, nothing is captured or counted as paid yet
    assert response.status_code == 200 and "capture at shipping" in response.json()["note"]
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.paid, order.payment_status) == ("paid", 0, "authorised")
    assert shop.stripe.calls("POST", f"/v1/payment_intents/{pi}/capture") == []
    assert set(_timers(shop, order_id)) == {"authorisation_expiry"}
    assert _level(shop) == (8, 0)  # the goods are committed to the buyer
    # And a refund of money never taken is refused
    with pytest.raises(GuardRejected) as refused:
        money_refunds.refund_order(shop.pilot.context, int(order_id[2:]), 100, "goodwill",
                                   "cs:wangfang")
    assert "paid 0" in str(refused.value), refused.value
    assert shop.stripe.calls("POST", "/v1/refunds") == []
    # When it ships
    for trigger in ("start_picking", "pack", "ship"):
        order = shop.pilot.orders.fire(order_id, trigger)
    # Then the capture was made with our key and the order is paid
    [capture] = shop.stripe.calls("POST", f"/v1/payment_intents/{pi}/capture")
    assert capture.headers["idempotency-key"] == f"capture:{order_id}"
    assert (order.state, order.paid, order.payment_status) == ("shipped", 9998, "paid")
    assert [h.trigger for h in shop.pilot.orders.history(order_id)][-2:] == ["ship", "capture"]
    assert _timers(shop, order_id) == {}


def test_an_authorisation_about_to_lapse_is_captured_before_the_order_ships(ship_shop):
    shop = ship_shop
    order_id, pi = shop.order_awaiting_payment()
    shop.stripe.authorise(pi)
    shop.deliver("payment_intent.amount_capturable_updated", se.intent(shop.stripe.intents[pi]))
    shop.pilot.orders.fire(order_id, "start_picking")
    assert "authorisation_expiry" not in shop.pilot.sweep(START + timedelta(days=5))
    assert shop.pilot.orders.get(order_id).paid == 0  # not due yet at 5 days
    # When the authorisation's deadline (6 days) passes and the money sweep runs
    counts = shop.pilot.sweep(START + timedelta(days=6, minutes=1))
    money = shop.pilot.payments.sweep(START + timedelta(days=6, minutes=5))
    # Then it was captured while still valid; the order goes on being picked
    assert counts["authorisation_expiry"] == 1 and money["retried"] == 1
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.paid, order.payment_status) == ("picking", 9998, "paid")
    assert len(shop.stripe.calls("POST", f"/v1/payment_intents/{pi}/capture")) == 1


def test_a_cancelled_order_paid_on_an_authorisation_has_it_released(ship_shop):
    shop = ship_shop
    order_id, pi = shop.order_awaiting_payment()
    shop.stripe.authorise(pi)
    shop.deliver("payment_intent.amount_capturable_updated", se.intent(shop.stripe.intents[pi]))
    cancelled = shop.pilot.orders.fire(order_id, "cancel", reason="买家不想要了")
    assert (cancelled.payment_status, cancelled.refunded) == ("unpaid", 0)
    assert shop.pilot.orders.history(order_id)[-1].payload["released_authorisation"] == 9998
    assert _level(shop) == (10, 0) and _timers(shop, order_id) == {}
    released = shop.pilot.payments.sweep()
    assert released["released"] == 1
    assert shop.stripe.intents[pi]["status"] == "canceled"
    assert shop.stripe.calls("POST", f"/v1/payment_intents/{pi}/capture") == []


def _expired(shop: Shop) -> tuple[str, str]:
    order_id, pi = shop.order_awaiting_payment()
    assert shop.pilot.sweep(START + timedelta(minutes=21))["hold_expiry"] == 1
    shop.stripe.authorise(pi)  # the buyer paid late; Stripe captured (an automatic intent)
    shop.stripe._capture(pi, {})
    return order_id, pi


def test_money_for_an_expired_order_revives_it_when_its_stock_is_still_there(reviving_shop):
    shop = reviving_shop
    order_id, pi = _expired(shop)
    assert _level(shop) == (10, 0)
    response = shop.deliver("payment_intent.succeeded", se.intent(shop.stripe.intents[pi]))
    assert response.status_code == 200 and "revived" in response.json()["note"]
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.paid, order.payment_ref) == ("paid", 9998, pi)
    assert _level(shop) == (8, 0) and shop.stripe.calls("POST", "/v1/refunds") == []
    assert [h.trigger for h in shop.pilot.orders.history(order_id)][-2:] == [
        "expire", "revive"]


def test_money_for_an_expired_order_whose_stock_is_gone_is_refunded(reviving_shop):
    shop = reviving_shop
    order_id, pi = _expired(shop)
    rival = shop.pilot.orders.place(buyer_id="b-bj-2", lines=[
        {"sku": "SKU-1", "quantity": 9, "unit_price": 100}], currency="CNY", shipping_address={
        "street": "朝阳路1号", "city": "北京市", "district": "朝阳区", "recipient": "韩梅梅",
        "phone": "+8613900139000"}, phone="+8613900139000")
    assert rival.state == "awaiting_payment" and _level(shop) == (10, 9)
    response = shop.deliver("payment_intent.succeeded", se.intent(shop.stripe.intents[pi]))
    assert response.status_code == 200 and "stock was taken" in response.json()["note"]
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.paid) == ("expired", 0) and _level(shop) == (10, 9)
    [refund] = shop.stripe.calls("POST", "/v1/refunds")
    assert refund.headers["idempotency-key"] == f"late-refund:stripe:{pi}"


def test_under_the_default_policy_late_money_is_refunded_not_revived(shop):
    order_id, pi = _expired(shop)
    response = shop.deliver("payment_intent.succeeded", se.intent(shop.stripe.intents[pi]))
    assert response.status_code == 200
    assert shop.pilot.orders.get(order_id).state == "expired"
    assert len(shop.stripe.calls("POST", "/v1/refunds")) == 1


def test_a_revived_order_leaves_the_store_consistent(reviving_shop):
    shop = reviving_shop
    order_id, pi = _expired(shop)
    shop.deliver("payment_intent.succeeded", se.intent(shop.stripe.intents[pi]))
    assert shop.pilot.orders.get(order_id).state == "paid"
    with shop.pilot.context.engine.connect() as connection:
        assert audit(connection) == []


def test_goods_do_not_ship_on_an_authorisation_whose_capture_failed(ship_shop):
    shop = ship_shop
    order_id, pi = shop.order_awaiting_payment()
    shop.stripe.authorise(pi)
    shop.deliver("payment_intent.amount_capturable_updated", se.intent(shop.stripe.intents[pi]))
    for trigger in ("start_picking", "pack"):
        shop.pilot.orders.fire(order_id, trigger)
    # Given the authorisation lapsed at Stripe before the sweep's capture was made
    shop.stripe.intents[pi]["status"] = "canceled"
    shop.pilot.sweep(START + timedelta(days=6, minutes=1))
    shop.pilot.payments.sweep(START + timedelta(days=6, minutes=5))
    # When the warehouse ships, it is refused, saying why and what to do; nothing changes
    with pytest.raises(GuardRejected, match="the capture of .* failed .*cancel the order"):
        shop.pilot.orders.fire(order_id, "ship")
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.payment_status) == ("packed", "authorised")
    assert shop.pilot.shipments.of_order(order_id) == []
    # And once the money is captured at the provider (its webhook books it), it ships
    shop.stripe.intents[pi].update(status="succeeded", amount_received=9998)
    booked = shop.deliver("payment_intent.succeeded", se.intent(shop.stripe.intents[pi]))
    assert booked.status_code == 200, booked.text
    shipped = shop.pilot.orders.fire(order_id, "ship")
    assert (shipped.state, shipped.paid) == ("shipped", 9998)
