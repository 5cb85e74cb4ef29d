"""Stripe money for an order a person is still reviewing: the buyer may pay (checkout opens),
the authorisation is captured at once even under capture-at-shipping (an authorisation kept
for shipping could lapse while a person decides), and the order keeps the money until the
decision. Stripe SDK against the local stand-in, its own signature check, both stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.service.checkout import open_checkout
from orderpilot import OrderPilot
from statemachine.risk_port import Reason, RiskAction, RiskDecision
from tests.fakes import stripe_events as se
from tests.fakes.stripe_api import FakeStripe
from tests.integration.integ.server import running_server
from tests.integration.payments.conftest import stripe_gateway_for
from tests.integration.payments.test_stripe_webhooks import SETTINGS, Shop


def review_everything(facts, store) -> RiskDecision:
    return RiskDecision(RiskAction.REVIEW, 85.0, (Reason("score", "行为评分 ≥ 80，人工审核"),))


@pytest.fixture(params=["authorisation", "shipping"])
def shop(request, any_url, clock, monkeypatch) -> Iterator[Shop]:
    monkeypatch.setenv("ORDERPILOT_CAPTURE_AT", request.param)
    with FakeStripe() as stripe:
        gateway = stripe_gateway_for(stripe)
        pilot = OrderPilot(any_url, clock=clock, risk_check=review_everything, gateway=gateway)
        with running_server(pilot, payments=SETTINGS) as base:
            shop = Shop(pilot, stripe, base)
            yield shop
            shop.http.close()
        gateway.close()
        pilot.close()


def test_a_card_paid_during_review_is_captured_and_kept_until_the_decision(shop):
    # Given an order held for review, whose buyer pays anyway (checkout opens: before, refused)
    order_id, pi = shop.order_awaiting_payment()
    assert shop.pilot.orders.get(order_id).state == "under_review"
    shop.stripe.authorise(pi)
    # When Stripe reports the authorisation
    response = shop.deliver("payment_intent.amount_capturable_updated",
                            se.intent(shop.stripe.intents[pi]))
    # Then it is captured at Stripe with our key (not voided, not kept for shipping) ...
    assert response.status_code == 200, response.text
    [capture] = shop.stripe.calls("POST", f"/v1/payment_intents/{pi}/capture")
    assert capture.headers["idempotency-key"] == f"capture:{order_id}"
    assert shop.stripe.calls("POST", f"/v1/payment_intents/{pi}/cancel") == []
    # ... and the order keeps the money while the person decides
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.paid, order.payment_ref) == ("under_review", 9998, pi)
    # And Stripe's own succeeded event afterwards changes nothing
    again = shop.deliver("payment_intent.succeeded", se.intent(shop.stripe.intents[pi]))
    assert again.status_code == 200 and again.json()["applied"] is False, again.text
    # When the reviewer approves, the order is paid and goes to the warehouse
    assert shop.pilot.reviews.approve(order_id, by="mei").state == "paid"
    assert shop.pilot.inventory.level(sku="SKU-1", warehouse="WH-1").on_hand == 8


def test_checkout_is_refused_once_the_order_under_review_is_paid(shop):
    order_id, pi = shop.order_awaiting_payment()
    shop.stripe.authorise(pi)
    shop.deliver("payment_intent.amount_capturable_updated", se.intent(shop.stripe.intents[pi]))
    assert shop.pilot.orders.get(order_id).paid == 9998
    with pytest.raises(Exception, match="only an order awaiting payment"):
        open_checkout(shop.pilot.context, int(order_id[2:]), actor="shop:again")
