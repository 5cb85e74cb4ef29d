"""Provider secrets never leave in a message, a stored error or a log line (every logger at
DEBUG, the SDKs' own included), on success and on a refused key."""

from __future__ import annotations

import logging

import pytest

from integrations.payments.settings import PaymentSettings
from integrations.payments.stripe_gateway import StripeGateway
from statemachine.ports import PermanentPaymentError
from tests.fakes.alipay_api import FakeAlipay
from tests.fakes.stripe_api import FakeStripe
from tests.integration.payments.conftest import alipay_gateway_for

STRIPE_KEY = "sk_test_51SecretValueThatMustNeverBeLogged0001"
WRONG_KEY = "rk_live_AnotherSecretValueNeverToBeLogged02"


@pytest.fixture
def every_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # the root logger: stripe, urllib3, alipay, ours
    return caplog


def leaked(secret: str, *texts: str) -> list[str]:
    return [t for t in texts if secret in t]


def test_a_stripe_key_is_in_no_log_line_nor_error_on_success_or_refusal(every_log):
    with FakeStripe() as fake:
        # Given a working key: a payment opened, authorised and captured
        good = StripeGateway(STRIPE_KEY, api_base=fake.url, max_retries=0, timeout_seconds=2)
        checkout = good.checkout("o-1", 29900, "CNY", idempotency_key="checkout:o-1")
        fake.authorise(checkout.payment_ref)
        good.capture(checkout.payment_ref, 29900, "CNY", idempotency_key="capture:o-1")
        # And a key Stripe refuses
        bad = StripeGateway(WRONG_KEY, api_base=fake.url, max_retries=0, timeout_seconds=2)
        with pytest.raises(PermanentPaymentError) as refused:
            bad.capture(checkout.payment_ref, 29900, "CNY", idempotency_key="capture:o-2")
        good.close()
        bad.close()
    # Then the refusal names the setting to fix, and no secret is anywhere
    assert "ORDERPILOT_PAYMENTS_STRIPE_API_KEY" in str(refused.value)
    logged = [r.getMessage() for r in every_log.records] + [every_log.text]
    assert len(every_log.records) > 0  # the SDK did log its requests
    for secret in (STRIPE_KEY, WRONG_KEY):
        assert leaked(secret, str(refused.value), repr(refused.value), *logged) == []


def test_an_alipay_private_key_is_in_no_log_line(every_log):
    with FakeAlipay() as fake:
        gateway = alipay_gateway_for(fake)
        checkout = gateway.checkout("o-1", 8888, "CNY", idempotency_key="checkout:o-1")
        fake.pay(checkout.payment_ref)
        gateway.capture(checkout.payment_ref, 8888, "CNY", idempotency_key="capture:o-1")
        body = "".join(fake.app_private.splitlines()[1:-1])
    logged = [r.getMessage() for r in every_log.records] + [every_log.text]
    for piece in (body[i:i + 24] for i in range(0, len(body) - 24, 24)):
        assert leaked(piece, *logged) == []


def test_settings_show_secrets_masked():
    settings = PaymentSettings(provider="stripe", stripe_api_key=STRIPE_KEY,
                               stripe_webhook_secret="whsec_SecretWebhookValue03")
    shown = (repr(settings), str(settings), settings.model_dump_json())
    assert leaked(STRIPE_KEY, *shown) == [] and leaked("whsec_SecretWebhookValue03", *shown) == []
    assert settings.secret("stripe_api_key") == STRIPE_KEY  # the adapter still gets it


def test_alipay_settings_without_the_shops_seller_id_are_refused_naming_it(monkeypatch):
    # A service provider's app serves many merchants: a notice Alipay signed for another
    # merchant's order numbered like ours would pay ours (before: the seller was optional)
    for name, value in {"PROVIDER": "alipay", "ALIPAY_APP_ID": "2021000000000001",
                        "ALIPAY_APP_PRIVATE_KEY": "pem", "ALIPAY_PUBLIC_KEY": "pem"}.items():
        monkeypatch.setenv(f"ORDERPILOT_PAYMENTS_{name}", value)
    with pytest.raises(ValueError, match="ORDERPILOT_PAYMENTS_ALIPAY_SELLER_ID"):
        PaymentSettings()
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_ALIPAY_SELLER_ID", "2088000000000001")
    assert PaymentSettings().alipay_seller_id == "2088000000000001"
