"""A rule set as plain frozen data: every threshold the engine uses, with the manuals' defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .facts import RiskAction
from .signals import ADDRESS, BUYER, DEVICE, IP


@dataclass(frozen=True, slots=True)
class AllowLane:
    enabled: bool = True
    min_completed_orders: int = 5
    max_amount: int = 20_000  # minor units


@dataclass(frozen=True, slots=True)
class VelocityRule:
    window_seconds: int = 3600
    max_orders: int = 5  # more than this many earlier orders in the window fires
    dimensions: tuple[str, ...] = (BUYER, DEVICE, IP, ADDRESS)
    action: RiskAction = RiskAction.VERIFY  # the manuals: > 5 orders an hour -> verification


@dataclass(frozen=True, slots=True)
class SkuDailyLimit:
    default_limit: int | None = None  # None: no limit for skus not listed
    limits: Mapping[str, int] = field(default_factory=dict)
    action: RiskAction = RiskAction.REJECT


@dataclass(frozen=True, slots=True)
class NewAccountBulk:
    max_account_age_seconds: int = 7 * 86_400
    max_quantity: int = 10  # a line with more units than this fires


VAGUE_KINDS = ("no_district", "no_house_number", "pickup_locker", "landmark_only")


@dataclass(frozen=True, slots=True)
class AddressRule:
    vague: tuple[str, ...] = VAGUE_KINDS  # which kinds of vagueness send an order to review
    max_changes: int = 3


@dataclass(frozen=True, slots=True)
class PhoneRule:
    virtual_segments: tuple[str, ...] = ("170", "171", "162", "165", "167")
    action: RiskAction = RiskAction.REVIEW


@dataclass(frozen=True, slots=True)
class PhoneVelocity:
    """One number on the orders of many accounts in a short time: a ring's receiving phone."""

    window_seconds: int = 86_400
    max_buyers: int = 3  # fires when this many *other* buyers used the number in the window
    action: RiskAction = RiskAction.REVIEW  # not verify: the code would go to that very phone


@dataclass(frozen=True, slots=True)
class CancelRate:
    min_orders: int = 5
    max_rate: float = 0.5


@dataclass(frozen=True, slots=True)
class CreditPolicy:
    initial: int = 100
    maximum: int = 100
    restricted_below: int = 60
    restricted_action: RiskAction = RiskAction.REVIEW
    deductions: Mapping[str, int] = field(
        default_factory=lambda: {
            "cancel_after_hold": 5,
            "unpaid_expiry": 5,
            "malicious_refund": 20,
            "chargeback": 30,
        }
    )
    recovery_per_good_order: int = 1


@dataclass(frozen=True, slots=True)
class ScoreWeights:
    """Noisy-OR weights (0..1): the most a single piece of evidence can add to the score."""

    new_account: float = 0.85
    device_shared: float = 0.55
    ip_shared: float = 0.35
    amount_vs_history: float = 0.3
    velocity: float = 0.4
    phone_shared: float = 0.3


@dataclass(frozen=True, slots=True)
class ScoreBands:
    reject_at: float = 80.0
    review_at: float = 50.0
    weights: ScoreWeights = field(default_factory=ScoreWeights)


@dataclass(frozen=True, slots=True)
class AmountBand:
    """The amount thresholds for orders in one currency, in its minor units."""

    review_above: int
    allow_lane_max: int


@dataclass(frozen=True, slots=True)
class RuleSet:
    """All thresholds of one rule set; built from TOML by `integrations.risk.config`."""

    name: str = "default"
    # the currency `amount_review_above` and `allow_lane.max_amount` are in; orders in another
    # currency use its band in `other_currencies` (no exchange rates here: a person sets them)
    currency: str = "CNY"
    amount_review_above: int = 500_000  # minor units: 5000.00
    other_currencies: Mapping[str, AmountBand] = field(default_factory=dict)
    blacklist_action: RiskAction = RiskAction.REJECT
    allow_lane: AllowLane = field(default_factory=AllowLane)
    velocity: VelocityRule = field(default_factory=VelocityRule)
    sku_daily_limit: SkuDailyLimit = field(default_factory=SkuDailyLimit)
    new_account_bulk: NewAccountBulk = field(default_factory=NewAccountBulk)
    address: AddressRule = field(default_factory=AddressRule)
    phone: PhoneRule = field(default_factory=PhoneRule)
    phone_velocity: PhoneVelocity = field(default_factory=PhoneVelocity)
    cancel_rate: CancelRate = field(default_factory=CancelRate)
    credit: CreditPolicy = field(default_factory=CreditPolicy)
    score: ScoreBands = field(default_factory=ScoreBands)
    # rule id -> verify | review | reject, over the per-rule `action` settings
    actions: Mapping[str, RiskAction] = field(default_factory=dict)

    def amounts_for(self, currency: str) -> AmountBand | None:
        """The thresholds for an order in `currency`; None when none are configured."""
        if currency == self.currency:
            return AmountBand(self.amount_review_above, self.allow_lane.max_amount)
        return self.other_currencies.get(currency)
