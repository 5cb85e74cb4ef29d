"""The transparent behavioural score: noisy-OR of weighted evidence, bounded 0..100."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from statemachine.risk import weighted_score
from statemachine.risk.score import evidence

from .factories import NOW, an_order, default_rules, quiet_signals


def test_no_evidence_scores_zero():
    assert weighted_score(an_order(), quiet_signals(), default_rules()) == 0.0


def test_a_purchase_within_a_minute_of_signup_scores_the_new_account_weight():
    seen = quiet_signals(account_created_at=NOW - timedelta(seconds=30))
    assert weighted_score(an_order(), seen, default_rules()) == 85.0


def test_independent_evidence_combines_as_noisy_or():
    # Given a shared device (0.55) and a shared IP (0.35)
    seen = quiet_signals(device_other_buyers=3, ip_other_buyers=3)
    # Then the score is 100 * (1 - 0.45 * 0.65)
    assert weighted_score(an_order(), seen, default_rules()) == 70.75
    assert set(evidence(an_order(), seen, default_rules())) == {"device_shared", "ip_shared"}


def test_an_amount_five_times_the_buyers_mean_counts_fully():
    seen = quiet_signals(buyer_mean_amount=1_000.0)
    assert weighted_score(an_order(amount=5_000), seen, default_rules()) == 30.0


def test_unknown_signals_add_no_evidence():
    seen = quiet_signals(account_created_at=None, device_other_buyers=None,
                         buyer_mean_amount=None, velocity={})
    assert evidence(an_order(), seen, default_rules()) == {}


@given(age=st.integers(0, 10**8), device=st.integers(0, 50), ip=st.integers(0, 50),
       mean=st.floats(1, 1e7), amount=st.integers(0, 10**9), burst=st.integers(0, 1000))
def test_score_stays_between_0_and_100(age, device, ip, mean, amount, burst):
    seen = quiet_signals(account_created_at=NOW - timedelta(seconds=age),
                         device_other_buyers=device, ip_other_buyers=ip,
                         buyer_mean_amount=mean, velocity={"buyer": burst})
    assert 0.0 <= weighted_score(an_order(amount=amount), seen, default_rules()) <= 100.0
