"""Which payment provider orderpilot talks to, and its credentials (ORDERPILOT_PAYMENTS_*).

Secrets come from the environment (or `.env`), or — for flows — from Prefect Secret blocks
named in `secret_blocks`; never from code, never logged (they are `SecretStr`: their repr is
`**********`). The simulated provider is the default, for the demo and the tests.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Provider = Literal["simulated", "stripe", "alipay"]
NEEDS = {"stripe": ("stripe_api_key", "stripe_webhook_secret"),
         # the seller (the shop's 2088… PID): a notice Alipay signed for another merchant of the
         # same app (a service provider's app serves many) must not pay our order of that number
         "alipay": ("alipay_app_id", "alipay_app_private_key", "alipay_public_key",
                    "alipay_seller_id")}


class PaymentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERPILOT_PAYMENTS_", env_file=".env",
                                      extra="ignore")

    provider: Provider = "simulated"
    timeout_seconds: float = Field(20, gt=0, le=120)
    max_retries: int = Field(2, ge=0, le=5, description="retries of a transient failure, "
                                                        "same idempotency key")
    webhook_tolerance_seconds: int = Field(300, ge=30, le=3600,
                                           description="older signed deliveries are refused")
    stripe_api_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: str = "https://api.stripe.com"
    alipay_app_id: str | None = None
    alipay_app_private_key: SecretStr | None = Field(None, description="PEM, RSA2 (2048 bit)")
    alipay_public_key: SecretStr | None = Field(None, description="Alipay's public key, PEM")
    alipay_gateway_url: str = "https://openapi.alipay.com/gateway.do"
    alipay_notify_url: str | None = Field(None, description="where Alipay posts notifications")
    alipay_seller_id: str | None = Field(None, description="the shop's seller id (2088…): "
                                                           "notifications for another seller "
                                                           "are refused")
    # Alipay resends an unanswered notification for 25 h (2m, 10m, 10m, 1h, 2h, 6h, 15h) with
    # the same notify_id, and does not document that notify_time changes on a resend: a
    # 5-minute window would refuse every resend after a short outage and lose the payment.
    # The notify_id (answered from the log) and the signature are what stop a replay.
    alipay_notify_window_seconds: int = Field(
        91_800, ge=300, le=172_800,
        description="Alipay notifications sent longer ago are refused (default 25.5 h)")
    secret_blocks: dict[str, str] = Field(
        default_factory=dict, description="setting name → Prefect Secret block name, read by "
                                          "flows when the environment does not set it")

    @model_validator(mode="after")
    def _complete(self) -> PaymentSettings:
        missing = [name for name in NEEDS.get(self.provider, ())
                   if getattr(self, name) is None and name not in self.secret_blocks]
        if missing:
            names = ", ".join(f"ORDERPILOT_PAYMENTS_{m.upper()}" for m in missing)
            raise ValueError(f"provider {self.provider} needs {names}")
        return self

    def secret(self, name: str) -> str:
        value = getattr(self, name)
        if value is None:
            raise ValueError(f"ORDERPILOT_PAYMENTS_{name.upper()} is not set")
        return value.get_secret_value() if isinstance(value, SecretStr) else str(value)
