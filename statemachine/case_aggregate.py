"""The after-sales case aggregate: its states, kinds and triggers, its lines, and what the case
records as it goes (the inspection, the amount refunded) — the refund, return, exchange or repair a
buyer asks for after an order. What may happen to a case, and what each step does, is the
lifecycle table's (statemachine/aftersales.py).

Money is in integer minor units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from statemachine import ids
from statemachine.stock import Allocation


class CaseState(StrEnum):
    REQUESTED = "requested"
    AUTO_APPROVED = "auto_approved"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    AWAITING_RETURN = "awaiting_return"
    RETURN_BOUNCED = "return_bounced"  # the carrier sent the return parcel back to the buyer
    RECEIVED = "received"
    INSPECTED = "inspected"
    REFUNDED = "refunded"
    EXCHANGED = "exchanged"
    REPAIRED = "repaired"
    CLOSED = "closed"


class CaseKind(StrEnum):
    REFUND_ONLY = "refund_only"
    RETURN_REFUND = "return_refund"
    EXCHANGE = "exchange"
    REPAIR = "repair"


class Inspection(StrEnum):
    OK = "ok"
    DAMAGED = "damaged"
    MISMATCH = "mismatch"


@dataclass(frozen=True, slots=True)
class CaseLine:
    line_no: int
    quantity: int
    amount: int  # what refunding this line would cost, minor units


@dataclass(eq=False)
class AfterSalesCase:
    id: int
    order_id: int
    kind: CaseKind
    state: CaseState
    version: int
    reason: str
    lines: tuple[CaseLine, ...]
    created_at: datetime
    inspection: Inspection | None = None
    refunded: int = 0
    # what the step being written does to stock (set by its effect, not stored):
    replacement: tuple[Allocation, ...] = ()  # units an exchange holds or takes fresh
    take_back: str | None = None  # restock | write_off: the inspected goods
    refusal: str | None = None
    step_payload: dict[str, Any] = field(default_factory=dict)

    @property
    def public_id(self) -> str:
        return case_public_id(self.id)

    @property
    def requested_amount(self) -> int:
        return sum(line.amount for line in self.lines)


def case_public_id(number: int) -> str:
    return ids.CASE(number)


class CaseTrigger(StrEnum):
    AUTO_APPROVE = "auto_approve"
    REVIEW = "review"
    APPROVE = "approve"
    REJECT = "reject"
    AWAIT_RETURN = "await_return"
    BOUNCE_RETURN = "bounce_return"
    RECEIVE = "receive"
    INSPECT = "inspect"
    REFUND = "refund"
    EXCHANGE = "exchange"
    REPAIR = "repair"
    CLOSE = "close"


def amount_due(case: AfterSalesCase, claims_refunded: int) -> int:
    """What refunding the case pays at most, and by default: the value of its lines less what
    claims on its own return parcels already refunded (those units are not refunded twice)."""
    return max(case.requested_amount - claims_refunded, 0)

