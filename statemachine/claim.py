"""The parcel claim: the buyer is compensated first (refund or reship) when the claim opens;
then the claim against the carrier is filed and tracked to paid or rejected.

    buyer_compensated ─file─▶ filed ─carrier_pay─▶ paid
                      │               └carrier_reject─▶ rejected
                      └close─▶ closed   (nothing to claim: e.g. a return inspected ok)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from statemachine import ids
from statemachine.lifecycle import Creation, Lifecycle, Step


class ClaimState(StrEnum):
    BUYER_COMPENSATED = "buyer_compensated"
    FILED = "filed"
    PAID = "paid"
    REJECTED = "rejected"
    CLOSED = "closed"


class ClaimKind(StrEnum):
    LOST = "lost"
    DAMAGED = "damaged"
    RETURNED = "returned"


@dataclass(eq=False)
class Claim:
    id: int
    shipment_id: int
    order_id: int
    kind: ClaimKind
    state: ClaimState
    version: int
    goods_value: int
    claimed: int = 0
    recovered: int = 0
    refusal: str | None = None
    step_payload: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    compensation: str = "none"  # how the buyer was made whole: refund | reship | case | none
    compensated: int = 0        # refunded to the buyer, minor units
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def public_id(self) -> str:
        return claim_public_id(self.id)


def claim_public_id(number: int) -> str:
    return ids.CLAIM(number)


class ClaimTrigger(StrEnum):
    FILE = "file"
    CARRIER_PAY = "carrier_pay"
    CARRIER_REJECT = "carrier_reject"
    CLOSE = "close"


def claim_within_value(claim: Claim, ctx: Mapping[str, Any]) -> str | None:
    amount = ctx.get("amount", claim.goods_value)
    if not 0 < amount <= claim.goods_value:
        return f"claimed amount must be between 1 and the goods value {claim.goods_value} " \
               f"(got {amount})"
    return None


def payout_within_claim(claim: Claim, ctx: Mapping[str, Any]) -> str | None:
    amount = ctx.get("amount", claim.claimed)
    if not 0 < amount <= claim.claimed:
        return f"payout must be between 1 and the claimed {claim.claimed} (got {amount})"
    return None


def record_filing(claim: Claim, ctx: Mapping[str, Any]) -> dict[str, Any]:
    claim.claimed = ctx.get("amount", claim.goods_value)
    return {"claimed": claim.claimed, "carrier_ref": ctx.get("carrier_ref")}


def record_payout(claim: Claim, ctx: Mapping[str, Any]) -> dict[str, Any]:
    claim.recovered = ctx.get("amount", claim.claimed)
    return {"recovered": claim.recovered, "carrier_ref": ctx.get("carrier_ref")}


def note(claim: Claim, ctx: Mapping[str, Any]) -> dict[str, Any]:
    return {"reason": ctx["reason"]} if ctx.get("reason") else {}


C = ClaimState
CLAIM_STEPS = (
    Step("file", (C.BUYER_COMPENSATED,), C.FILED, (claim_within_value,), record_filing),
    Step("carrier_pay", (C.FILED,), C.PAID, (payout_within_claim,), record_payout),
    Step("carrier_reject", (C.FILED,), C.REJECTED, effect=note),
    Step("close", (C.BUYER_COMPENSATED,), C.CLOSED, effect=note),
)

CLAIM_LIFECYCLE = Lifecycle("claim", ClaimState, ClaimState.BUYER_COMPENSATED, CLAIM_STEPS,
                            triggers=ClaimTrigger, creation=Creation("open", "opened"))
