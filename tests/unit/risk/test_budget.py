"""The review budget: the curve over score bands and the bands it proposes, by hand."""

from __future__ import annotations

from datetime import UTC, datetime

from integrations.risk.budget import budget_alert, curve, point, propose
from statemachine.risk.engine import Assessment
from statemachine.risk_port import Reason


def scored(score: float, reviews: tuple = (), verifies: tuple = ()) -> Assessment:
    return Assessment(score, None, (), reviews, verifies, True)


# ten orders: scores and labels (1 = fraud); one rule-based review on a good order
ORDERS = [scored(90), scored(85), scored(70), scored(60), scored(40),
          scored(35, reviews=(Reason("vague_address", "vague"),)), scored(30), scored(20),
          scored(10), scored(5, verifies=(Reason("velocity", "fast"),))]
LABELS = [1, 1, 0, 1, 0, 0, 0, 0, 0, 0]


def test_a_point_counts_shares_precision_and_recall_of_the_bands():
    p = point(ORDERS, LABELS, reject_at=80, review_at=50)
    # rejected: 90, 85 (both fraud); reviewed: 70, 60, and the vague 35; verified: the 5
    assert (p.review_share, p.flagged_share) == (0.3, 0.6)
    assert (p.reject_precision, p.reject_recall) == (1.0, 2 / 3)
    assert (p.precision, p.recall) == (0.5, 1.0)


def test_the_proposal_keeps_rejects_precise_and_reviews_within_the_budget():
    proposal = propose(ORDERS, LABELS, budget=0.2)
    # reject_at 75 is the lowest band whose rejects are all fraud (70 is not)
    assert proposal["reject_at"] == 75.0
    # review_at 65 sends 70 and the vague 35 to people: 20 %; 60 would make it 30 %
    assert proposal["review_at"] == 65.0
    assert proposal["expected"]["review_share"] == 0.2


def test_a_budget_no_score_band_can_meet_says_so():
    proposal = propose(ORDERS, LABELS, budget=0.05)  # the rule-based review alone is 10 %
    assert proposal["review_at"] is None and "already exceed" in proposal["note"]


def test_the_curve_lists_every_review_band_up_to_the_reject_band():
    points = curve(ORDERS, LABELS, reject_at=80)
    assert [p.review_at for p in points] == list(range(5, 81, 5))
    shares = [p.review_share for p in points]
    assert shares == sorted(shares, reverse=True)  # a higher band reviews fewer orders


def test_ops_hear_about_an_hour_over_budget_and_not_about_a_day_within_it():
    now = datetime(2026, 11, 11, 10, 0, tzinfo=UTC)
    over = {"hour": {"orders": 40, "review": 12, "review_share": 0.3, "over_budget": True},
            "day": {"orders": 400, "review": 60, "review_share": 0.15, "over_budget": False}}
    message = budget_alert(over, 0.2, now)
    assert message.audience == "ops" and "30%" in message.title and "12 of 40" in message.body
    within = {**over, "hour": {**over["hour"], "review_share": 0.1, "over_budget": False}}
    assert budget_alert(within, 0.2, now) is None
