"""The documented evaluation order: allow lane, hard blocks, score bands, review rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from statemachine.risk import decide
from statemachine.risk.ruleset import CreditPolicy
from statemachine.risk_port import RiskAction

from .factories import NOW, an_order, default_rules, known_good_signals, quiet_signals

BRAND_NEW = NOW - timedelta(seconds=5)


def test_a_quiet_order_is_approved_without_reasons():
    decision = decide(an_order(), quiet_signals(), default_rules())
    assert decision.action is RiskAction.APPROVE and decision.reasons == ()


def test_allow_lane_approves_a_known_good_buyer_before_review_rules():
    # Given a known good buyer whose velocity would otherwise ask for review
    seen = known_good_signals(velocity={"buyer": 9})
    # When a small order is decided
    decision = decide(an_order(), seen, default_rules())
    # Then the allow lane approves it at once, with only its own reason
    assert decision.action is RiskAction.APPROVE
    assert [r.rule for r in decision.reasons] == ["allow_lane"]


def test_allow_lane_does_not_cover_large_orders_disputes_or_blacklisted_buyers():
    rules = default_rules()
    assert decide(an_order(amount=20_001), known_good_signals(), rules).reasons == ()
    disputed = decide(an_order(), known_good_signals(disputes=1), rules)
    assert "allow_lane" not in [r.rule for r in disputed.reasons]
    listed = decide(an_order(), known_good_signals(blacklist_hits=("buyer",)), rules)
    assert listed.action is RiskAction.REJECT


def test_allow_lane_covers_small_orders_only_in_a_currency_with_a_band():
    # 15,000 JPY (about ¥730) is "small" only if someone said so: with no JPY band it is not
    # compared against the CNY lane's 20,000 minor units (¥200.00)
    decision = decide(an_order(amount=15_000, currency="JPY"), known_good_signals(),
                      default_rules())
    assert "allow_lane" not in [r.rule for r in decision.reasons]
    assert "amount_threshold" in [r.rule for r in decision.reasons]


def test_allow_lane_is_false_when_completed_orders_are_unknown():
    decision = decide(an_order(), known_good_signals(orders_completed=None), default_rules())
    assert "allow_lane" not in [r.rule for r in decision.reasons]


def test_hard_block_rejects_before_score_and_review_rules_are_reported():
    # Given a blacklisted device on an order that also passes the amount threshold
    seen = quiet_signals(blacklist_hits=("device",))
    # When decided
    decision = decide(an_order(amount=900_000), seen, default_rules())
    # Then it is rejected for the blacklist only
    assert decision.action is RiskAction.REJECT
    assert [r.rule for r in decision.reasons] == ["blacklist"]


def test_score_at_reject_band_rejects_and_explains_the_evidence():
    # Given an account created seconds before buying
    decision = decide(an_order(), quiet_signals(account_created_at=BRAND_NEW), default_rules())
    # Then the behavioural score rejects it and the reason names the evidence
    assert decision.action is RiskAction.REJECT and decision.score >= 80
    (reason,) = decision.reasons
    assert reason.rule == "score_reject" and "new_account" in reason.values["evidence"]


def test_score_in_middle_band_reviews_together_with_review_rules():
    # Given a device shared with two other buyers (score 55) and a big amount
    seen = quiet_signals(device_other_buyers=2)
    decision = decide(an_order(amount=600_000), seen, default_rules())
    # Then the order goes to review with both reasons
    assert decision.action is RiskAction.REVIEW and 50 <= decision.score < 80
    assert [r.rule for r in decision.reasons] == ["amount_threshold", "score_review"]


def test_credit_restriction_follows_its_configured_action():
    low = quiet_signals(credit_score=40)
    reviewing = decide(an_order(), low, default_rules())
    strict = default_rules(credit=replace(CreditPolicy(), restricted_action=RiskAction.REJECT))
    assert reviewing.action is RiskAction.REVIEW
    assert decide(an_order(), low, strict).action is RiskAction.REJECT


def test_a_learned_scorer_replaces_the_weighted_score():
    # Given a scorer that always says 90
    def always_ninety(facts, signals, ruleset):
        return 90.0
    # When a quiet order is decided with it
    decision = decide(an_order(), quiet_signals(), default_rules(), always_ninety)
    # Then the order is rejected by the score band with that score
    assert decision.action is RiskAction.REJECT and decision.score == 90.0
    assert "evidence" not in decision.reasons[0].values
