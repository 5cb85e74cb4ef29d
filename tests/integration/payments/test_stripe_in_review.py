"""Stripe money for an order a person is still reviewing: the buyer may pay (checkout opens),
the authorisation is captured at once even under capture-at-shipping (an authorisation kept
for shipping could lapse while a person decides), and the order keeps the money until the
decision. Stripe SDK against the local stand-in, its own signature check, both stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.service.checkout import open_checkout
from statemachine.risk_port import Reason, RiskAction, RiskDecision
from tests.fakes import stripe_events as se
from tests.integration.payments.test_payment_pending import stripe_shop
from tests.integration.payments.test_stripe_webhooks import Shop


def review_everything(facts, store) -> RiskDecision:
    return RiskDecision(RiskAction.REVIEW, 85.0, (Reason("score", "行为评分 ≥ 80，人工审核"),))


@pytest.fixture(params=["authorisation", "shipping"])
def shop(request, any_url, clock, monkeypatch) -> Iterator[Shop]:
    yield from stripe_shop(any_url, clock, monkeypatch, review_everything, capture_at=request.param)


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
