"""Buyer credit score arithmetic: deductions, slow recovery, bounds and history."""

from __future__ import annotations

import pytest

from statemachine.risk import CreditEvent, CreditEventKind, apply_credit_event, replay_credit
from statemachine.risk.credit import (
    UnknownCreditEvent,
    credit_delta,
    current_credit,
    is_restricted,
)
from statemachine.risk.ruleset import CreditPolicy

from .factories import NOW

POLICY = CreditPolicy()
K = CreditEventKind


def event(kind: CreditEventKind) -> CreditEvent:
    return CreditEvent(kind, NOW, order_id="o-1", note=kind.value)


def test_a_new_buyer_starts_at_100_and_is_not_restricted():
    assert current_credit([], POLICY) == 100 and not is_restricted(100, POLICY)


@pytest.mark.parametrize(("kind", "after"), [
    (K.CANCEL_AFTER_HOLD, 95), (K.UNPAID_EXPIRY, 95), (K.MALICIOUS_REFUND, 80),
    (K.CHARGEBACK, 70),
])
def test_each_bad_event_deducts_its_configured_points(kind, after):
    change = apply_credit_event(100, event(kind), POLICY)
    assert (change.before, change.after, change.delta) == (100, after, after - 100)


def test_two_chargebacks_restrict_the_buyer_and_history_records_each_step():
    history = replay_credit([event(K.CHARGEBACK), event(K.CHARGEBACK)], POLICY)
    assert [(c.before, c.after) for c in history] == [(100, 70), (70, 40)]
    assert is_restricted(history[-1].after, POLICY)


def test_good_orders_recover_one_point_each_and_never_pass_the_maximum():
    events = [event(K.MALICIOUS_REFUND)] + [event(K.GOOD_ORDER)] * 25
    history = replay_credit(events, POLICY)
    assert history[1].after == 81 and history[-1].after == 100


def test_score_never_goes_below_zero():
    assert current_credit([event(K.CHARGEBACK)] * 5, POLICY) == 0


def test_an_event_without_a_configured_deduction_is_an_error():
    policy = CreditPolicy(deductions={"chargeback": 30})
    with pytest.raises(UnknownCreditEvent, match="unpaid_expiry"):
        apply_credit_event(100, event(K.UNPAID_EXPIRY), policy)


def test_undoing_an_unpaid_expiry_gives_back_exactly_what_it_took():
    policy = CreditPolicy(deductions={**CreditPolicy().deductions, "unpaid_expiry": 7})
    assert credit_delta(CreditEventKind.UNPAID_EXPIRY, policy) == -7
    assert credit_delta(CreditEventKind.UNPAID_EXPIRY_UNDONE, policy) == 7
