"""Refund triage: which after-sales requests are approved at once and which need a person.

The amount limit is per order: this request with what the order's other requests refunded,
were granted, or ask for while waiting for a decision. "A new buyer's first order" means no order
placed earlier (in time) was paid and kept (a later order, one never paid, or one refunded in
full does not make a buyer known)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from statemachine.aftersales import AfterSalesCase, CaseKind, CaseState
from statemachine.currency import shown

# Accepted (by the rules or a person) with the money still to go back.
OWED = frozenset({CaseState.AUTO_APPROVED, CaseState.APPROVED, CaseState.AWAITING_RETURN,
                  CaseState.RETURN_BOUNCED, CaseState.RECEIVED, CaseState.INSPECTED})
REFUNDING = frozenset({CaseKind.REFUND_ONLY, CaseKind.RETURN_REFUND})


@dataclass(frozen=True, slots=True)
class RefundFacts:
    amount: int              # requested, minor units
    buyer_credit: int        # 0–100, starts at 100
    order_age: timedelta     # since the order was placed
    buyer_age: timedelta     # since the buyer's first order
    paid_before: int         # orders placed earlier, paid and not refunded in full
    currency: str = "CNY"
    # what the order's other after-sales cases refunded or were granted (`granted`)
    order_granted: int = 0
    # what the order's other requests ask for while no one has decided them (`waiting`)
    order_waiting: int = 0


@dataclass(frozen=True, slots=True)
class RefundRules:
    auto_max_amount: int = 20_000               # 200.00, in `currency`
    currency: str = "CNY"  # a refund in another currency has no limit here: a person looks
    min_credit: int = 80
    max_order_age: timedelta = timedelta(days=30)
    new_buyer: timedelta = timedelta(days=30)


def needs_a_person(facts: RefundFacts, rules: RefundRules = RefundRules()) -> list[str]:
    """Why a person must look at this request; an empty list means approve at once."""
    reasons = []
    if facts.currency != rules.currency:
        reasons.append(f"refund in {facts.currency}: the auto-approve limit is set in "
                       f"{rules.currency} only")
    elif facts.amount + facts.order_granted + facts.order_waiting > rules.auto_max_amount:
        others = facts.order_granted + facts.order_waiting
        with_others = (f" ({shown(facts.amount + others, facts.currency)} with "
                       f"the order's other requests)" if others else "")
        reasons.append(f"amount {shown(facts.amount, facts.currency)}{with_others} above the "
                       f"auto-approve limit {shown(rules.auto_max_amount, facts.currency)}")
    if facts.buyer_credit < rules.min_credit:
        reasons.append(f"buyer credit {facts.buyer_credit} below {rules.min_credit}")
    if facts.order_age > rules.max_order_age:
        reasons.append(f"order is {facts.order_age.days} days old "
                       f"(limit {rules.max_order_age.days})")
    if facts.paid_before == 0 and facts.buyer_age < rules.new_buyer:
        reasons.append("first order of a new buyer asks for a refund")
    return reasons


def granted(cases: Iterable[AfterSalesCase], claims_refunded: Mapping[int, int] | None = None
            ) -> int:
    """What after-sales cases refunded, or were granted and will refund: the auto-approve
    limit is per order, or six 1-unit requests of ¥150 would each pass a ¥200 limit.
    `claims_refunded`: case id → what claims on its own return parcels refunded (a lost return
    parcel's goods: money back to the buyer on that case, not in `case.refunded`)."""
    claims = claims_refunded or {}
    total = 0
    for case in cases:
        back = case.refunded + claims.get(case.id, 0)
        owed = case.state in OWED and case.kind in REFUNDING
        total += max(back, case.requested_amount) if owed else back
    return total


def waiting(cases: Iterable[AfterSalesCase], this: AfterSalesCase) -> int:
    """What the order's other refund requests ask for while undecided: those a person has
    (under review), and those opened before `this` that triage has not reached yet. Money
    asked for and not refused counts toward the limit: before, a ¥250 request waiting for a
    person let a ¥150 one on the same order through at once. A request opened after `this`
    is judged after it, with `this` counted."""
    return sum(case.requested_amount for case in cases
               if case.kind in REFUNDING and case.id != this.id and (
                   case.state is CaseState.UNDER_REVIEW
                   or case.state is CaseState.REQUESTED
                   and (case.created_at, case.id) < (this.created_at, this.id)))
