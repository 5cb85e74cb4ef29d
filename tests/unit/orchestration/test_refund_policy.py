"""Refund triage rules: what is approved at once and what a person must see."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from statemachine.aftersales import AfterSalesCase, CaseKind, CaseLine, CaseState
from statemachine.refund_policy import RefundFacts, granted, needs_a_person, waiting

LOW_RISK = RefundFacts(amount=5_000, buyer_credit=95, order_age=timedelta(days=3),
                       buyer_age=timedelta(days=400), paid_before=11)


def test_a_small_refund_by_a_known_good_buyer_on_a_recent_order_is_approved_at_once():
    assert needs_a_person(LOW_RISK) == []


@pytest.mark.parametrize(("change", "reason"), [
    ({"amount": 20_001}, "amount ¥200.01 above the auto-approve limit ¥200.00"),
    # the limit is in CNY: 20,000 JPY (about ¥1,000) or 200 KWD are not "small" by it
    ({"currency": "JPY"}, "refund in JPY: the auto-approve limit is set in CNY only"),
    ({"buyer_credit": 79}, "buyer credit 79 below 80"),
    ({"order_age": timedelta(days=31)}, "order is 31 days old (limit 30)"),
    ({"paid_before": 0, "buyer_age": timedelta(days=2)},
     "first order of a new buyer asks for a refund"),
])
def test_each_risk_sends_the_request_to_a_person_with_its_reason(change: dict, reason: str):
    assert needs_a_person(replace(LOW_RISK, **change)) == [reason]


def test_a_first_order_by_a_long_standing_buyer_is_not_suspicious_by_itself():
    assert needs_a_person(replace(LOW_RISK, paid_before=0)) == []


def test_the_amount_limit_counts_what_the_orders_other_requests_refunded_or_were_granted():
    # ¥150 asked after ¥150 granted on the same order: ¥300 leaves the shop without a person
    assert needs_a_person(replace(LOW_RISK, amount=15_000, order_granted=15_000)) == [
        "amount ¥150.00 (¥300.00 with the order's other requests) above the auto-approve "
        "limit ¥200.00"]
    assert needs_a_person(replace(LOW_RISK, amount=5_000, order_granted=15_000)) == []


def _case(n: int, kind: CaseKind, state: CaseState, amount: int, refunded: int = 0):
    return AfterSalesCase(id=n, order_id=1, kind=kind, state=state, version=1, reason="破损",
                          lines=(CaseLine(line_no=n, quantity=1, amount=amount),),
                          created_at=datetime(2026, 11, 20, tzinfo=UTC), refunded=refunded)


def test_granted_counts_refunds_made_and_accepted_requests_not_yet_refunded():
    cases = [
        _case(1, CaseKind.REFUND_ONLY, CaseState.REFUNDED, 15_000, refunded=15_000),
        _case(2, CaseKind.RETURN_REFUND, CaseState.AWAITING_RETURN, 12_900),  # to be refunded
        _case(3, CaseKind.REFUND_ONLY, CaseState.UNDER_REVIEW, 9_900),  # a person decides
        _case(4, CaseKind.REFUND_ONLY, CaseState.REJECTED, 8_800),
        _case(5, CaseKind.EXCHANGE, CaseState.APPROVED, 7_700),  # goods, not money
    ]
    assert granted(cases) == 15_000 + 12_900


def test_granted_counts_what_claims_on_a_cases_return_parcels_refunded():
    refunded = _case(1, CaseKind.RETURN_REFUND, CaseState.REFUNDED, 18_000, refunded=3_000)
    owed = _case(2, CaseKind.RETURN_REFUND, CaseState.RECEIVED, 12_900)
    # the refunded case: its own ¥30 and its lost parcel's ¥150; the owed one: its request,
    # whatever part a claim already paid
    assert granted([refunded, owed], {1: 15_000, 2: 8_800}) == 18_000 + 12_900


def test_waiting_counts_requests_under_review_and_those_queued_ahead():
    this = _case(3, CaseKind.REFUND_ONLY, CaseState.REQUESTED, 5_000)
    cases = [
        _case(1, CaseKind.REFUND_ONLY, CaseState.UNDER_REVIEW, 25_000),  # a person has it
        _case(2, CaseKind.RETURN_REFUND, CaseState.REQUESTED, 9_900),  # ahead in the queue
        this,
        _case(4, CaseKind.REFUND_ONLY, CaseState.REQUESTED, 7_700),  # judged after, with this
        _case(5, CaseKind.REFUND_ONLY, CaseState.REJECTED, 8_800),  # refused
        _case(6, CaseKind.EXCHANGE, CaseState.UNDER_REVIEW, 6_600),  # goods, not money
        _case(7, CaseKind.REFUND_ONLY, CaseState.AUTO_APPROVED, 5_500),  # granted: not here
    ]
    assert waiting(cases, this) == 25_000 + 9_900


def test_the_amount_limit_counts_what_waits_for_a_decision():
    # ¥100 asked while ¥250 on the same order waits for a person: ¥350 asked, none refused
    assert needs_a_person(replace(LOW_RISK, amount=10_000, order_waiting=25_000)) == [
        "amount ¥100.00 (¥350.00 with the order's other requests) above the auto-approve "
        "limit ¥200.00"]
