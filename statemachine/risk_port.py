"""The seam between order placement and risk control.

Placement builds a `PlacementFacts` and asks a `RiskCheck` for a `RiskDecision` inside the
placement transaction. The rules themselves live in `statemachine.risk` (pure); gathering the
signals they need (counts, lists, credit) is an adapter's job in `integrations`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from statemachine.address import ParsedAddress

if TYPE_CHECKING:  # statemachine.risk imports this module: no import cycle at run time
    from statemachine.risk.ports import RiskSignalStore


class RiskAction(StrEnum):
    APPROVE = "approve"
    VERIFY = "verify"  # step-up verification by the buyer (SMS code), no reviewer time
    REVIEW = "review"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule that fired: its id, a sentence for a person, and the values it saw."""

    rule: str
    text: str
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RiskDecision:
    action: RiskAction
    score: float = 0.0
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True, slots=True)
class PlacedLine:
    sku: str
    quantity: int
    unit_price: int


@dataclass(frozen=True, slots=True)
class PlacementFacts:
    """What the risk check may look at when an order is placed (no I/O needed to read it)."""

    order_id: str
    buyer_id: str
    amount: int  # minor units
    currency: str
    lines: tuple[PlacedLine, ...]
    shipping_address: Mapping[str, str]  # as the shop sent it (shown to people)
    placed_at: datetime
    device_id: str | None = None
    ip: str | None = None
    phone: str | None = None  # E.164 (+8613800138000) once placement has validated it
    address: ParsedAddress | None = None  # the structured form every address rule compares

    @property
    def address_key(self) -> str | None:
        return self.address.key if self.address is not None else None


class RiskCheck(Protocol):
    """Decides approve / review / reject for a new order, reading signals from `store` (bound
    to the placement transaction) and recording what it decided there."""

    def __call__(self, facts: PlacementFacts, store: RiskSignalStore) -> RiskDecision: ...


def approve_everything(facts: PlacementFacts, store: RiskSignalStore) -> RiskDecision:
    """The trivial default until a rule set is configured: every order is approved."""
    return RiskDecision(RiskAction.APPROVE, 0.0, (Reason("default", "no risk rules configured"),))
