"""Goodwill refunds — a refund tied to no case — through the public entries: the Python API
(`pilot.orders.refund_goodwill`) and `POST /v1/ops/orders/{id}/refunds` (signed with the ops
secret), over the one service call that records and makes it. The money goes through Stripe
(the SDK against the local stand-in); bad input names the field and writes nothing. Both
stores."""

from __future__ import annotations

import pytest

from statemachine.errors import GuardRejected, InvalidInput, NotFound
from tests.integration.integ.server import Client, row_counts
from tests.integration.payments.test_stripe_webhooks import (  # noqa: F401 - fixture
    ledger_of,
    shop,
)

WHY = "物流延误三天，补偿 5 元"


def test_customer_service_refunds_goodwill_from_the_python_api(shop):  # noqa: F811
    # Given a paid order of ¥99.98
    order_id, _ = shop.paid_order()
    # When customer service gives ¥5.00 back for a late delivery
    done = shop.pilot.orders.refund_goodwill(order_id, amount=500, reason=WHY,
                                             by="cs:王芳", key="ticket-1017")
    # Then Stripe paid it once under our key, and the order and the ledger count it
    assert (done.status, done.refund, done.amount, done.currency, done.error) == (
        "succeeded", f"refund:{order_id}:ticket-1017", 500, "CNY", None)
    assert (done.order.id, done.order.refunded) == (order_id, 500)
    [call] = shop.stripe.calls("POST", "/v1/refunds")
    assert call.headers["idempotency-key"] == done.refund
    assert ("refund", 500, "CNY") in ledger_of(shop, order_id)
    [step] = [h for h in shop.pilot.orders.history(order_id) if h.trigger == "refund"]
    assert WHY in str(step.payload)
    # When the same call is made again under its key (a retry), nothing more is paid
    again = shop.pilot.orders.refund_goodwill(order_id, amount=500, reason=WHY,
                                              by="cs:王芳", key="ticket-1017")
    assert (again.status, again.refund, again.order.refunded) == ("succeeded", done.refund,
                                                                   500)
    assert len(shop.stripe.calls("POST", "/v1/refunds")) == 1


@pytest.mark.parametrize(("given", "field"), [
    ({"amount": 0}, "amount"), ({"amount": -500}, "amount"), ({"amount": 5.0}, "amount"),
    ({"amount": "500"}, "amount"), ({"amount": True}, "amount"),
    ({"reason": ""}, "reason"), ({"reason": "   "}, "reason"), ({"reason": None}, "reason"),
    ({"reason": "补" * 501}, "reason"), ({"by": ""}, "by"), ({"key": ""}, "key"),
    ({"key": "工单-1017"}, "key"),  # sent to the provider as an HTTP header: ASCII only
    ({"currency": "USD"}, "currency"),
])
def test_bad_input_names_the_field_and_writes_nothing(shop, given, field):  # noqa: F811
    order_id, _ = shop.paid_order()
    before = row_counts(shop.pilot)
    with pytest.raises(InvalidInput) as refused:
        shop.pilot.orders.refund_goodwill(order_id, **{"amount": 500, "reason": WHY,
                                                       "by": "cs:王芳", **given})
    assert list(refused.value.problems) == [field], refused.value.problems
    assert row_counts(shop.pilot) == before
    assert shop.stripe.calls("POST", "/v1/refunds") == []


def test_the_amount_error_says_it_is_in_the_orders_currency(shop):  # noqa: F811
    order_id, _ = shop.paid_order()
    with pytest.raises(InvalidInput) as refused:
        shop.pilot.orders.refund_goodwill(order_id, amount=4.5, reason=WHY, by="cs:王芳")
    assert "CNY minor units" in refused.value.problems["amount"]
    assert "500 = 5.00 CNY" in refused.value.problems["amount"]


def test_more_than_was_paid_or_an_unknown_order_is_refused(shop):  # noqa: F811
    order_id, _ = shop.paid_order()
    before = row_counts(shop.pilot)
    with pytest.raises(GuardRejected):
        shop.pilot.orders.refund_goodwill(order_id, amount=9999, reason=WHY, by="cs:王芳")
    with pytest.raises(NotFound):
        shop.pilot.orders.refund_goodwill("o-999", amount=500, reason=WHY, by="cs:王芳")
    assert row_counts(shop.pilot) == before
    assert shop.stripe.calls("POST", "/v1/refunds") == []


def test_ops_refund_goodwill_over_http(shop):  # noqa: F811
    order_id, _ = shop.paid_order()
    signer = Client(str(shop.http.base_url))
    path = f"/v1/ops/orders/{order_id}/refunds"

    class ops:  # signed at the shop's clock, which the server checks the signature against
        @staticmethod
        def post(path: str, payload: dict):
            return signer.post(path, payload, at=shop.pilot.clock.now())

    # When ops send a goodwill refund, signed with the ops secret
    made = ops.post(path, {"amount": 500, "reason": WHY, "by": "cs:王芳", "key": "t-1017"})
    # Then it is made and answered as it ended, the order with it
    assert made.status_code == 200, made.text
    body = made.json()
    assert (body["status"], body["refund"], body["amount"], body["order"]["refunded"]) == (
        "succeeded", f"refund:{order_id}:t-1017", 500, 500)
    assert len(shop.stripe.calls("POST", "/v1/refunds")) == 1
    # When a body is bad: 422 naming each field, nothing written
    before = row_counts(shop.pilot)
    bad = ops.post(path, {"amount": "5.00", "reason": " ", "by": "cs:王芳"})
    assert bad.status_code == 422, bad.text
    assert set(bad.json()["problems"]) == {"amount"}
    blank = ops.post(path, {"amount": 500, "reason": " ", "by": "cs:王芳"})
    assert blank.status_code == 422 and set(blank.json()["problems"]) == {"reason"}, blank.text
    assert ops.post(path, {"amount": 500, "reason": WHY, "by": "cs:王芳",
                           "currency": "USD"}).json()["problems"].keys() == {"currency"}
    too_much = ops.post(path, {"amount": 9999, "reason": WHY, "by": "cs:王芳"})
    assert too_much.status_code == 409, too_much.text
    assert row_counts(shop.pilot) == before
    # And unsigned, it is refused before anything is read
    assert shop.http.post(path, json={"amount": 500, "reason": WHY,
                                      "by": "cs:王芳"}).status_code == 401
    signer.http.close()
