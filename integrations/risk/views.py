"""Read models for risk control (review tasks, blacklist entries, credit changes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from statemachine import ids


class RiskView(BaseModel):
    model_config = ConfigDict(frozen=True)


class ReviewTaskView(RiskView):
    order_id: str
    buyer_id: str
    state: str
    total: int
    currency: str
    score: float
    reasons: list[dict[str, Any]]
    opened_at: datetime
    due_at: datetime
    overdue: bool
    escalated: bool
    escalated_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    decision: str | None
    note: str | None
    # the order's address corrected while it waits (at, by, reason, conflicts_before): the
    # reasons above are about the address as placed
    address_corrected: dict[str, Any] | None = None


class BlacklistEntryView(RiskView):
    """A block or allow list entry (`list_name`): `value` as compared, `shown` as typed."""

    id: int
    list_name: str = "block"
    kind: str
    value: str
    shown: str | None = None
    reason: str
    evidence_order_ids: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime | None = None
    removed_at: datetime | None
    removed_by: str | None


class CreditChangeView(RiskView):
    kind: str
    order_id: str | None
    note: str
    before: int
    after: int
    actor: str
    at: datetime

    @classmethod
    def of(cls, row: dict[str, Any]) -> CreditChangeView:
        order = ids.ORDER(row["order_id"]) if row["order_id"] is not None else None
        return cls(**{**row, "order_id": order})
