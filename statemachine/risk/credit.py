"""Buyer credit score arithmetic: start high, lose points for bad events, recover slowly.

Pure functions over integers; the adapter stores each `CreditChange` as a history row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .ruleset import CreditPolicy


class CreditEventKind(StrEnum):
    CANCEL_AFTER_HOLD = "cancel_after_hold"
    UNPAID_EXPIRY = "unpaid_expiry"
    # the order's money came after all and revived it: the buyer did pay, the deduction is undone
    UNPAID_EXPIRY_UNDONE = "unpaid_expiry_undone"
    MALICIOUS_REFUND = "malicious_refund"
    CHARGEBACK = "chargeback"
    GOOD_ORDER = "good_order"


@dataclass(frozen=True, slots=True)
class CreditEvent:
    kind: CreditEventKind
    at: datetime
    order_id: str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class CreditChange:
    """One entry in a buyer's credit history: what happened and how the score moved."""

    event: CreditEvent
    before: int
    after: int

    @property
    def delta(self) -> int:
        return self.after - self.before


class UnknownCreditEvent(ValueError):
    """The policy has no deduction configured for this event kind."""


def credit_delta(kind: CreditEventKind, policy: CreditPolicy) -> int:
    """Points this event adds (positive) or deducts (negative) under the policy."""
    if kind is CreditEventKind.GOOD_ORDER:
        return policy.recovery_per_good_order
    if kind is CreditEventKind.UNPAID_EXPIRY_UNDONE:
        return -credit_delta(CreditEventKind.UNPAID_EXPIRY, policy)
    if kind.value not in policy.deductions:
        raise UnknownCreditEvent(f"no deduction configured for credit event {kind.value!r}")
    return -abs(policy.deductions[kind.value])


def apply_credit_event(score: int, event: CreditEvent, policy: CreditPolicy) -> CreditChange:
    """The score after one event, kept within 0..policy.maximum."""
    after = min(policy.maximum, max(0, score + credit_delta(event.kind, policy)))
    return CreditChange(event, score, after)


def replay_credit(events: Iterable[CreditEvent], policy: CreditPolicy) -> list[CreditChange]:
    """The full history of changes from the initial score, events taken in the order given."""
    history: list[CreditChange] = []
    score = policy.initial
    for event in events:
        change = apply_credit_event(score, event, policy)
        history.append(change)
        score = change.after
    return history


def current_credit(events: Iterable[CreditEvent], policy: CreditPolicy) -> int:
    """The buyer's score after all events (the initial score when there are none)."""
    history = replay_credit(events, policy)
    return history[-1].after if history else policy.initial


def is_restricted(score: int, policy: CreditPolicy) -> bool:
    """True when the score is below the restriction threshold."""
    return score < policy.restricted_below
