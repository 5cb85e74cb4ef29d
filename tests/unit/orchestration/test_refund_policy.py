"""Refund triage rules: what is approved at once and what a person must see."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from statemachine.refund_policy import RefundFacts, needs_a_person

LOW_RISK = RefundFacts(amount=5_000, buyer_credit=95, order_age=timedelta(days=3),
                       buyer_age=timedelta(days=400), buyer_orders=12)


def test_a_small_refund_by_a_known_good_buyer_on_a_recent_order_is_approved_at_once():
    assert needs_a_person(LOW_RISK) == []


@pytest.mark.parametrize(("change", "reason"), [
    ({"amount": 20_001}, "amount ¥200.01 above the auto-approve limit ¥200.00"),
    # the limit is in CNY: 20,000 JPY (about ¥1,000) or 200 KWD are not "small" by it
    ({"currency": "JPY"}, "refund in JPY: the auto-approve limit is set in CNY only"),
    ({"buyer_credit": 79}, "buyer credit 79 below 80"),
    ({"order_age": timedelta(days=31)}, "order is 31 days old (limit 30)"),
    ({"buyer_orders": 1, "buyer_age": timedelta(days=2)},
     "first order of a new buyer asks for a refund"),
])
def test_each_risk_sends_the_request_to_a_person_with_its_reason(change: dict, reason: str):
    assert needs_a_person(replace(LOW_RISK, **change)) == [reason]


def test_a_first_order_by_a_long_standing_buyer_is_not_suspicious_by_itself():
    assert needs_a_person(replace(LOW_RISK, buyer_orders=1)) == []
