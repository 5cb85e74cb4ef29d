"""The payment adapter the settings choose (simulated by default)."""

from __future__ import annotations

from typing import Any

from integrations.config import read_settings
from integrations.payments.settings import PaymentSettings


def gateway_from_settings(settings: PaymentSettings | None = None) -> Any:
    """A StripeGateway, AlipayGateway or the simulated gateway, configured from settings."""
    settings = settings or read_settings(PaymentSettings)
    if settings.provider == "stripe":
        from integrations.payments.stripe_gateway import StripeGateway

        return StripeGateway(settings.secret("stripe_api_key"),
                             api_base=settings.stripe_api_base,
                             max_retries=settings.max_retries,
                             timeout_seconds=settings.timeout_seconds)
    if settings.provider == "alipay":
        from integrations.payments.alipay_gateway import AlipayGateway

        return AlipayGateway(settings.secret("alipay_app_id"),
                             settings.secret("alipay_app_private_key"),
                             settings.secret("alipay_public_key"),
                             gateway_url=settings.alipay_gateway_url,
                             notify_url=settings.alipay_notify_url,
                             max_retries=settings.max_retries,
                             timeout_seconds=settings.timeout_seconds)
    from integrations.payments.simulated import AdoptingGateway

    return AdoptingGateway()
