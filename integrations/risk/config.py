"""Rule sets as TOML files, validated by pydantic and turned into the pure `RuleSet`."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from statemachine.risk import ruleset as rs
from statemachine.risk_port import RiskAction

Action = Literal["verify", "review", "reject"]
RuleId = Literal["blacklist", "sku_daily_limit", "credit_restricted", "velocity",
                 "amount_threshold", "new_account_bulk", "vague_address", "address_changes",
                 "cancel_rate", "virtual_phone", "address_contradiction", "phone_velocity"]
Dimension = Literal["buyer", "device", "ip", "address"]
CreditKind = Literal["cancel_after_hold", "unpaid_expiry", "malicious_refund", "chargeback"]


class RuleSetConfigError(ValueError):
    """A rule set file could not be read or validated; the message names file and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AllowLaneConfig(_Strict):
    enabled: bool = True
    min_completed_orders: int = Field(5, ge=1)
    max_amount: int = Field(20_000, ge=0)


class VelocityConfig(_Strict):
    window_seconds: int = Field(3600, gt=0)
    max_orders: int = Field(5, ge=1)
    dimensions: tuple[Dimension, ...] = ("buyer", "device", "ip", "address")
    action: Action = "verify"


class SkuDailyLimitConfig(_Strict):
    default_limit: int | None = Field(None, ge=1)
    limits: dict[str, int] = {}
    action: Action = "reject"


class NewAccountBulkConfig(_Strict):
    max_account_age_seconds: int = Field(7 * 86_400, ge=0)
    max_quantity: int = Field(10, ge=1)


class AddressConfig(_Strict):
    vague: tuple[Literal["no_district", "no_house_number", "pickup_locker", "landmark_only"],
                 ...] = rs.VAGUE_KINDS
    max_changes: int = Field(3, ge=0)


class PhoneConfig(_Strict):
    virtual_segments: tuple[str, ...] = ("170", "171", "162", "165", "167")
    action: Action = "review"


class PhoneVelocityConfig(_Strict):
    window_seconds: int = Field(86_400, gt=0)
    max_buyers: int = Field(3, ge=1)  # other buyers on the number in the window that fire
    action: Action = "review"


class CancelRateConfig(_Strict):
    min_orders: int = Field(5, ge=1)
    max_rate: float = Field(0.5, ge=0.0, le=1.0)


class CreditConfig(_Strict):
    initial: int = Field(100, ge=0)
    maximum: int = Field(100, ge=1)
    restricted_below: int = Field(60, ge=0)
    restricted_action: Action = "review"
    deductions: dict[CreditKind, int] = Field(default_factory=lambda: {
        "cancel_after_hold": 5, "unpaid_expiry": 5, "malicious_refund": 20, "chargeback": 30})
    recovery_per_good_order: int = Field(1, ge=0)

    @model_validator(mode="after")
    def _initial_within_maximum(self) -> CreditConfig:
        if self.initial > self.maximum:
            raise ValueError(f"initial ({self.initial}) must not exceed maximum ({self.maximum})")
        return self


class WeightsConfig(_Strict):
    new_account: float = Field(0.85, ge=0.0, le=1.0)
    device_shared: float = Field(0.55, ge=0.0, le=1.0)
    ip_shared: float = Field(0.35, ge=0.0, le=1.0)
    amount_vs_history: float = Field(0.3, ge=0.0, le=1.0)
    velocity: float = Field(0.4, ge=0.0, le=1.0)
    phone_shared: float = Field(0.3, ge=0.0, le=1.0)


class ScoreConfig(_Strict):
    reject_at: float = Field(80.0, ge=0.0, le=100.0)
    review_at: float = Field(50.0, ge=0.0, le=100.0)
    weights: WeightsConfig = WeightsConfig()

    @model_validator(mode="after")
    def _bands_ordered(self) -> ScoreConfig:
        if self.review_at > self.reject_at:
            raise ValueError(f"review_at ({self.review_at}) must not exceed reject_at "
                             f"({self.reject_at})")
        return self


class AmountBandConfig(_Strict):
    review_above: int = Field(ge=0)
    allow_lane_max: int = Field(0, ge=0)


CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class RuleSetConfig(_Strict):
    name: str = "default"
    currency: CurrencyCode = "CNY"  # what amount_review_above and allow_lane.max_amount are in
    amount_review_above: int = Field(500_000, ge=0)
    other_currencies: dict[CurrencyCode, AmountBandConfig] = {}
    blacklist_action: Action = "reject"
    allow_lane: AllowLaneConfig = AllowLaneConfig()
    velocity: VelocityConfig = VelocityConfig()
    sku_daily_limit: SkuDailyLimitConfig = SkuDailyLimitConfig()
    new_account_bulk: NewAccountBulkConfig = NewAccountBulkConfig()
    address: AddressConfig = AddressConfig()
    phone: PhoneConfig = PhoneConfig()
    phone_velocity: PhoneVelocityConfig = PhoneVelocityConfig()
    cancel_rate: CancelRateConfig = CancelRateConfig()
    credit: CreditConfig = CreditConfig()
    score: ScoreConfig = ScoreConfig()
    actions: dict[RuleId, Action] = {}

    @model_validator(mode="after")
    def _own_currency_not_repeated(self) -> RuleSetConfig:
        if self.currency in self.other_currencies:
            raise ValueError(f"other_currencies.{self.currency} repeats the rule set's own "
                             f"currency: set amount_review_above and allow_lane.max_amount")
        return self

    def to_ruleset(self) -> rs.RuleSet:
        """The pure frozen rule set the engine evaluates."""
        d, score = self.model_dump(), self.score
        return rs.RuleSet(
            name=d["name"], currency=d["currency"], amount_review_above=d["amount_review_above"],
            other_currencies={code: rs.AmountBand(**band)
                              for code, band in d["other_currencies"].items()},
            blacklist_action=RiskAction(d["blacklist_action"]),
            allow_lane=rs.AllowLane(**d["allow_lane"]),
            velocity=_build(rs.VelocityRule, d["velocity"], "action"),
            sku_daily_limit=_build(rs.SkuDailyLimit, d["sku_daily_limit"], "action"),
            new_account_bulk=rs.NewAccountBulk(**d["new_account_bulk"]),
            address=rs.AddressRule(**d["address"]),
            phone=_build(rs.PhoneRule, d["phone"], "action"),
            phone_velocity=_build(rs.PhoneVelocity, d["phone_velocity"], "action"),
            cancel_rate=rs.CancelRate(**d["cancel_rate"]),
            credit=_build(rs.CreditPolicy, d["credit"], "restricted_action"),
            score=rs.ScoreBands(score.reject_at, score.review_at,
                                rs.ScoreWeights(**d["score"]["weights"])),
            actions={rule: RiskAction(a) for rule, a in d["actions"].items()},
        )


def _build(cls, data: dict, action_key: str):
    """Build a frozen policy, turning its action string into a `RiskAction`."""
    return cls(**{**data, action_key: RiskAction(data[action_key])})


def _describe(error: ValidationError, source: str) -> str:
    lines = [f"invalid rule set {source}:"]
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "(top level)"
        lines.append(f"  {where}: {item['msg']}")
    return "\n".join(lines)


def parse_ruleset(text: str, source: str = "<string>") -> rs.RuleSet:
    """Parse and validate TOML text into a `RuleSet`; errors name the source and the field."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleSetConfigError(f"invalid rule set {source}: not valid TOML: {exc}") from exc
    try:
        return RuleSetConfig.model_validate(raw).to_ruleset()
    except ValidationError as exc:
        raise RuleSetConfigError(_describe(exc, source)) from exc


def load_ruleset(path: str | Path) -> rs.RuleSet:
    """Load a rule set from a TOML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleSetConfigError(f"cannot read rule set {path}: {exc.strerror}") from exc
    return parse_ruleset(text, str(path))


def default_ruleset() -> rs.RuleSet:
    """The rule set shipped with the package (default_rules.toml)."""
    text = resources.files(__package__).joinpath("default_rules.toml").read_text("utf-8")
    return parse_ruleset(text, "default_rules.toml")
