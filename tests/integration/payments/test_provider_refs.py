"""Text a caller gives that travels to a payment provider as an identifier — a refund key
(Stripe's Idempotency-Key header, Alipay's out_request_no), a payment id (the key of a late
payment's refund, `late-refund:<provider>:<payment_ref>`) — is printable ASCII, checked at our
edge: a Chinese key failed in the Stripe SDK (latin-1 UnicodeEncodeError), was answered
`pending` and retried by the sweep for ever. Refused naming the field, nothing written, the
provider not called. Stripe stand-in, real server, both stores."""

from __future__ import annotations

import pytest

from integrations.ingest.events import PaymentEvent
from integrations.service import money_refunds
from integrations.service.inputs import parse
from statemachine.errors import InvalidInput
from tests.integration.integ.server import row_counts
from tests.integration.payments.test_stripe_webhooks import shop  # noqa: F401 - fixture

WHY = "物流延误三天，补偿 5 元"


@pytest.mark.parametrize("key", ["工单-1017", "ticket 1017", "ticket-1017\n", "x" * 129])
def test_an_order_refund_under_a_key_no_provider_takes_is_refused_naming_key(
        shop, key):  # noqa: F811
    # Given a paid order (¥99.98), paid through Stripe
    order_id, _ = shop.paid_order()
    before = row_counts(shop.pilot)
    # When a caller of the service asks for a refund under a Chinese key (or spaces, too long)
    with pytest.raises(InvalidInput) as refused:
        money_refunds.refund_order(shop.pilot.context, int(order_id[2:]), 500, WHY,
                                   "cs:王芳", key)
    # Then the key is named with what is expected, nothing is written, Stripe is not asked
    assert list(refused.value.problems) == ["key"]
    assert "printable ASCII" in refused.value.problems["key"]
    assert row_counts(shop.pilot) == before
    assert shop.stripe.calls("POST", "/v1/refunds") == []


def test_an_order_refund_under_an_ascii_key_is_still_paid_once(shop):  # noqa: F811
    order_id, _ = shop.paid_order()
    done = money_refunds.refund_order(shop.pilot.context, int(order_id[2:]), 500, WHY,
                                      "cs:王芳", "工单1017".encode().hex())
    assert done.status.value == "succeeded"
    [call] = shop.stripe.calls("POST", "/v1/refunds")
    assert call.headers["idempotency-key"] == done.key


@pytest.mark.parametrize("trigger", ["pay", "start_payment"])
def test_a_payment_id_no_provider_takes_is_refused_naming_payment_ref(shop, trigger):  # noqa: F811
    # Given an order awaiting payment
    order_id, _ = shop.order_awaiting_payment()
    before = row_counts(shop.pilot)
    # When a payment is reported under a Chinese payment id
    with pytest.raises(InvalidInput) as refused:
        shop.pilot.orders.fire(order_id, trigger, amount=9998, payment_ref="支付宝-2026112900")
    # Then payment_ref is named, nothing written (its refund key would carry it to Stripe)
    assert "payment_ref" in refused.value.problems, refused.value.problems
    assert "printable ASCII" in refused.value.problems["payment_ref"]
    assert row_counts(shop.pilot) == before


def test_a_payment_event_under_a_payment_id_no_provider_takes_is_refused():
    body = {"event_id": "pay-evt-1", "type": "succeeded", "order_id": "o-1", "amount": 9998,
            "payment_ref": "微信支付 4200001"}
    with pytest.raises(InvalidInput) as refused:
        parse(PaymentEvent, body)
    assert "printable ASCII" in refused.value.problems["payment_ref"]
