"""Refund triage: which after-sales requests are approved at once and which need a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from statemachine.currency import shown


@dataclass(frozen=True, slots=True)
class RefundFacts:
    amount: int              # requested, minor units
    buyer_credit: int        # 0–100, starts at 100
    order_age: timedelta     # since the order was placed
    buyer_age: timedelta     # since the buyer's first order
    buyer_orders: int        # orders the buyer placed, this one included
    currency: str = "CNY"


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
    elif facts.amount > rules.auto_max_amount:
        reasons.append(f"amount {shown(facts.amount, facts.currency)} above the auto-approve "
                       f"limit {shown(rules.auto_max_amount, facts.currency)}")
    if facts.buyer_credit < rules.min_credit:
        reasons.append(f"buyer credit {facts.buyer_credit} below {rules.min_credit}")
    if facts.order_age > rules.max_order_age:
        reasons.append(f"order is {facts.order_age.days} days old "
                       f"(limit {rules.max_order_age.days})")
    if facts.buyer_orders <= 1 and facts.buyer_age < rules.new_buyer:
        reasons.append("first order of a new buyer asks for a refund")
    return reasons
