"""The providers' official SDKs pointed at local stand-ins of their APIs on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.payments.alipay_gateway import AlipayGateway
from integrations.payments.stripe_gateway import StripeGateway
from tests.fakes.alipay_api import APP_ID, FakeAlipay
from tests.fakes.stripe_api import FakeStripe

STRIPE_KEY = "sk_test_orderpilot_local"  # a test key: the fake only checks its prefix
STRIPE_WEBHOOK_SECRET = "whsec_orderpilot_local_test"


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


@pytest.fixture
def fake_alipay() -> Iterator[FakeAlipay]:
    with FakeAlipay() as fake:
        yield fake


def stripe_gateway_for(fake: FakeStripe, timeout: float = 2.0) -> StripeGateway:
    return StripeGateway(STRIPE_KEY, api_base=fake.url, max_retries=2, timeout_seconds=timeout)


def alipay_gateway_for(fake: FakeAlipay, timeout: float = 2.0) -> AlipayGateway:
    return AlipayGateway(APP_ID, fake.app_private, fake.alipay_public, gateway_url=fake.gateway,
                         max_retries=2, timeout_seconds=timeout, retry_delay=0.05)


@pytest.fixture
def stripe_gateway(fake_stripe: FakeStripe) -> StripeGateway:
    return stripe_gateway_for(fake_stripe)


@pytest.fixture
def alipay_gateway(fake_alipay: FakeAlipay) -> AlipayGateway:
    return alipay_gateway_for(fake_alipay)
