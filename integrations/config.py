"""Settings: one `Settings` object, read from ORDERPILOT_* environment variables (or .env)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from integrations.connect_config import (
    NoticePolicy,
    ShopifyPolicy,
    TrackingPolicy,
    WebhookPolicy,
)
from integrations.currencies import shop_currency
from integrations.db.engine import DEFAULT_SQLITE_SYNCHRONOUS
from integrations.fulfil_config import FulfilmentPolicy
from statemachine.errors import InvalidInput
from statemachine.policies import Timeouts

DEFAULT_DATABASE_URL = "sqlite:///orderpilot.db"
SHOP_NAME = re.compile(r"[a-z](?:[a-z0-9-]{0,18}[a-z0-9])?")
S = TypeVar("S", bound=BaseSettings)


def read_settings(kind: type[S], **values: Any) -> S:
    """`kind(**values)` read from the environment (and .env); a value it refuses is InvalidInput
    naming the variable as the operator wrote it (ORDERPILOT_HOLD_MINUTES,
    ORDERPILOT_SHOPIFY__CURRENCY) and what is expected: a typo in the environment is bad input,
    not a traceback. The value itself is not repeated (it may be a secret)."""
    config = kind.model_config
    prefix, nested = config.get("env_prefix", ""), config.get("env_nested_delimiter")
    try:
        return kind(**values)
    except SettingsError as error:  # a dict or list setting whose JSON does not parse
        field = re.search(r'field "([^"]+)"', str(error))
        raise InvalidInput({(prefix + (field.group(1) if field else "")).upper():
                            "expected a JSON value (it did not parse)"}) from None
    except ValidationError as error:
        problems: dict[str, str] = {}
        for problem in error.errors():
            # without a nested delimiter the variable is the field; a key inside its JSON
            # value ({"ops": …}) is named in the message, not made into a variable
            loc = [str(part) for part in problem["loc"]]
            variable, inside = (loc, []) if nested else (loc[:1], loc[1:])
            message = problem["msg"].removeprefix("Value error, ")
            name = (prefix + (nested or "").join(variable)).upper()
            said = f"{'.'.join(inside)}: {message}" if inside else message
            problems[name] = f"{problems[name]}; {said}" if name in problems else said
        raise InvalidInput(problems) from None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERPILOT_", env_file=".env", extra="ignore",
                                      env_nested_delimiter="__")

    database_url: str = Field(DEFAULT_DATABASE_URL, description="SQLAlchemy URL of the store")
    sqlite_synchronous: Literal["normal", "full"] = Field(
        DEFAULT_SQLITE_SYNCHRONOUS, description="SQLite only: `full` fsyncs every COMMIT (an "
        "answered write survives a power loss); `normal` does not (it survives a killed "
        "process; a power loss or OS crash can take the last seconds of commits)")
    currency: Annotated[str, AfterValidator(shop_currency)] = Field(
        "CNY", pattern=r"^[A-Z]{3}$", description="orders placed without one are in this")
    hold_minutes: float = Field(20, ge=15, le=30, description="stock hold TTL, 15–30 minutes")
    review_sla_hours: float = Field(24, gt=0)
    verification_minutes: float = Field(10, gt=0, le=60, description="time the buyer has to "
                                        "answer a step-up verification before it rejects")
    pickup_hours: float = Field(72, gt=0)
    scan_silence_hours: float = Field(24, gt=0)
    aftersales_sla_hours: float = Field(24, gt=0)
    auto_complete_days: float = Field(7, gt=0)
    promised_delivery_days: float = Field(5, gt=0)
    payment_pending_hours: float = Field(72, gt=0, description="how long a started payment "
                                         "(authorised, processing) keeps the stock before the "
                                         "order expires")
    authorisation_days: float = Field(6, gt=0, le=30, description="an authorisation kept for "
                                      "capture at shipping is captured this long after it was "
                                      "given if the order has not shipped (cards lapse ~7 days)")
    capture_at: Literal["authorisation", "shipping"] = Field(
        "authorisation", description="when an authorised payment is captured: at once, or "
                                     "when the order ships (fulfilled on the authorisation)")
    refund_policy_text: str | None = Field(
        None, max_length=5000, description="the shop's refund policy as buyers read it: the "
                                           "refund-policy field of every chargeback answer")
    late_payments: Literal["refund", "revive"] = Field(
        "refund", description="money for an expired order: refunded automatically, or the order "
                              "revived if its stock is still there (else refunded)")
    default_carrier: str = "sim-express"
    sweep_batch: int = Field(1000, ge=1, le=10000)
    fulfilment: FulfilmentPolicy = Field(default_factory=FulfilmentPolicy)
    webhooks: WebhookPolicy = Field(default_factory=WebhookPolicy)
    tracking: TrackingPolicy = Field(default_factory=TrackingPolicy)
    shopify: ShopifyPolicy = Field(default_factory=ShopifyPolicy)
    notices: NoticePolicy = Field(default_factory=NoticePolicy)
    shop_timezone: str = Field("Asia/Shanghai", description="IANA zone staff read times in")
    shop: str | None = Field(None, description="the store's short name on a Prefect server it "
                             "shares with other stores (staging beside production): the start "
                             "of every page, case file and deployment name its console makes")

    @field_validator("sqlite_synchronous", mode="before")
    @classmethod
    def _level(cls, value: object) -> object:
        """FULL and Full read as full (PRAGMA spells it in capitals); anything else is refused
        by the Literal, naming the two levels."""
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("shop", mode="before")
    @classmethod
    def _short_name(cls, value: object) -> object:
        """Lowercase letters, digits and inner dashes — what Prefect allows in an artifact key —
        short enough to lead every name; empty means none (a single store)."""
        if value is None or value == "":
            return None
        if not isinstance(value, str) or not SHOP_NAME.fullmatch(value):
            raise ValueError("expected a short name of lowercase letters, digits and dashes "
                             "(e.g. staging), at most 20 characters, starting with a letter")
        return value

    @field_validator("shop_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"expected an IANA time zone such as Asia/Shanghai (got {value!r})"
                             ) from error
        return value

    def zone(self) -> ZoneInfo:
        """The shop's time zone: every time shown to staff is in it (stored times are UTC)."""
        return ZoneInfo(self.shop_timezone)

    def timeouts(self) -> Timeouts:
        return Timeouts(
            hold=timedelta(minutes=self.hold_minutes),
            review_sla=timedelta(hours=self.review_sla_hours),
            verification=timedelta(minutes=self.verification_minutes),
            pickup=timedelta(hours=self.pickup_hours),
            scan_silence=timedelta(hours=self.scan_silence_hours),
            aftersales_sla=timedelta(hours=self.aftersales_sla_hours),
            auto_complete=timedelta(days=self.auto_complete_days),
            promised_delivery=timedelta(days=self.promised_delivery_days),
            payment_pending=timedelta(hours=self.payment_pending_hours),
            authorisation=timedelta(days=self.authorisation_days),
        )
