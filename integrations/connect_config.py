"""Settings of the shop connections, nested in `Settings` (ORDERPILOT_WEBHOOKS__*,
ORDERPILOT_TRACKING__*).

Outbound webhooks: the retry schedule (one delay per retry; after the last one the delivery is
dead-lettered), the request timeout, how many chains are sent at once, and the claim lease: a
relay that dies mid-batch leaves its deliveries claimed this long, then another run resends.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, SecretStr, model_validator

from integrations.currencies import shop_currency

# Standard Webhooks' suggested schedule after the first try: 5 s, 5 min, 30 min, 2 h, 5 h,
# 10 h, 10 h — eight attempts over about 28 hours.
DEFAULT_RETRIES = [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]


class WebhookPolicy(BaseModel):
    retry_seconds: list[float] = Field(
        default_factory=lambda: list(DEFAULT_RETRIES), max_length=20,
        description="wait before each retry; dead-lettered after len + 1 failed attempts")
    timeout_seconds: float = Field(10.0, gt=0, le=120)
    concurrency: int = Field(8, ge=1, le=64, description="chains (subscription × order) "
                             "sent in parallel")
    batch: int = Field(200, ge=1, le=5000, description="deliveries claimed per round")
    chain_limit: int = Field(20, ge=1, le=1000, description="deliveries of one chain per round")
    lease_seconds: float = Field(300.0, gt=0, description="how long a claimed delivery is "
                                 "left alone by other relays (longer than one round takes)")

    @property
    def max_attempts(self) -> int:
        return len(self.retry_seconds) + 1

    def retry_delay(self, attempts: int) -> float | None:
        """Seconds to wait after the `attempts`-th failure; None when it should go dead."""
        return self.retry_seconds[attempts - 1] if attempts <= len(self.retry_seconds) else None


class TrackingPolicy(BaseModel):
    """Tracking providers (ORDERPILOT_TRACKING__*): which one subscribes waybills at ship,
    their credentials, and how our carrier names map to their carrier codes."""

    provider: Literal["kuaidi100", "aftership"] | None = Field(
        None, description="subscribe every new waybill with this provider; none: do not")
    carrier_codes: dict[str, str] = Field(
        default_factory=dict, description="our carrier name → the provider's code, e.g. "
        '{"sf": "shunfeng", "yto": "yuantong"} (Kuaidi100) or {"sf": "sf-express"} (AfterShip)')
    kuaidi100_key: SecretStr | None = None
    kuaidi100_salt: SecretStr | None = None
    kuaidi100_callback_url: str | None = Field(
        None, description="where Kuaidi100 pushes: https://<your host>/hooks/kuaidi100")
    kuaidi100_poll_url: str = "https://poll.kuaidi100.com/poll"
    aftership_api_key: SecretStr | None = None
    aftership_webhook_secret: SecretStr | None = None
    aftership_domain: str = "https://api.aftership.com"

    @model_validator(mode="after")
    def _complete(self) -> TrackingPolicy:
        """A provider is chosen with what it needs, or refused at start-up (not when the
        first parcel is subscribed)."""
        needs = {"kuaidi100": ("kuaidi100_key", "kuaidi100_salt", "kuaidi100_callback_url"),
                 "aftership": ("aftership_api_key",)}.get(self.provider or "", ())
        missing = [name for name in needs if not _given(getattr(self, name))]
        if missing:
            names = ", ".join(f"ORDERPILOT_TRACKING__{name.upper()}" for name in missing)
            raise ValueError(f"the {self.provider} provider needs {names} (not set)")
        return self

    def provider_code(self, carrier: str) -> str:
        return self.carrier_codes.get(carrier, carrier)

    def our_carriers(self, provider_code: str) -> list[str]:
        """Our carrier names for a provider's code (the code itself when none is mapped)."""
        return [ours for ours, code in self.carrier_codes.items() if code == provider_code] \
            or [provider_code]


def secret_of(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value else None


def _given(value: SecretStr | str | None) -> bool:
    return bool(secret_of(value) if isinstance(value, SecretStr) else value)


class ShopifyPolicy(BaseModel):
    """Shopify order webhooks (ORDERPILOT_SHOPIFY__*)."""

    webhook_secret: SecretStr | None = Field(
        None, description="the app's client secret: verifies X-Shopify-Hmac-Sha256")
    shop_domain: str | None = Field(None, description="accept only this shop "
                                    "(X-Shopify-Shop-Domain), e.g. my-shop.myshopify.com")
    currency: Annotated[str | None, AfterValidator(shop_currency)] = Field(
        None, pattern=r"^[A-Z]{3}$", description="the shop's currency; default "
                                                  "ORDERPILOT_CURRENCY")
    refund_later_alert_hours: float = Field(
        72, gt=0, description="a paid order cancelled with 'refund later' whose money is still "
                              "not all given back this long after it was cancelled is "
                              "reported to ops once (event orderpilot.order.refund_owed)")


NoticeName = Literal["confirmed", "paid", "shipped", "delivered", "refunded", "aftersales"]


class NoticePolicy(BaseModel):
    """Buyer notices (ORDERPILOT_NOTICES__*): sent through the `buyer` route of
    ORDERPILOT_NOTIFY_ROUTES as soon as it has a URL; each notice can be switched off."""

    send: list[NoticeName] = Field(
        default_factory=lambda: ["confirmed", "paid", "shipped", "delivered", "refunded",
                                 "aftersales"],
        description="which notices go out; remove one to switch it off")
    language: Literal["zh", "en"] = Field("zh", description="when the order has no locale")
    shop_name: str = Field("orderpilot", max_length=40)
    tracking_url: str = Field(
        "https://www.kuaidi100.com/chaxun?com={carrier_code}&nu={tracking_no}",
        description="the tracking link in the shipped notice")
