"""What a risk decision is about and what it says: the facts of a placed order, the action, the
reasons. Plain values (no I/O), shared by the rules here and by the placement seam
(`statemachine.risk_port`), which imports them from here and never the other way round.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from statemachine.address import ParsedAddress


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
    # the shipping address's number (E.164) when the shop sent one: the recipient's, which
    # may be `phone` itself (the buyer's own number, else this one)
    recipient_phone: str | None = None
    # `phone` is the recipient's, the buyer having given none (placement's; a correction
    # judges the number it names as the address's field): reasons say whose number it is
    phone_is_recipients: bool = False

    @property
    def address_key(self) -> str | None:
        return self.address.key if self.address is not None else None

    @property
    def phones(self) -> tuple[str, ...]:
        """The order's numbers, each once: `phone` first, then a different recipient's."""
        return tuple(dict.fromkeys(p for p in (self.phone, self.recipient_phone) if p))
