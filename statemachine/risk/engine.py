"""`decide`: one pure, synchronous risk decision for a new order.

Evaluation order (each stage only runs when the ones before it did not decide):

1. allow lane - a known good buyer (enough completed orders, no disputes, on no blacklist)
   placing a small order is approved at once;
2. hard blocks - every rule whose configured action is `reject` (blacklists, sku daily limit,
   and credit restriction when set to reject); any hit rejects, with all hits as reasons;
3. score bands - behavioural score >= reject_at rejects;
4. review rules - every rule whose action is `review`, plus score >= review_at; any hit reviews;
5. verify rules - every rule whose action is `verify`: any hit asks the buyer for step-up
   verification (an SMS code) instead of spending a reviewer's time.

Otherwise the order is approved. A rule on a missing (None) signal is false.
"""

from __future__ import annotations

from statemachine.risk_port import PlacementFacts, Reason, RiskAction, RiskDecision

from .rules import ALL_RULES, Rule, rule_action
from .ruleset import RuleSet
from .score import ScoreFunction, evidence, weighted_score
from .signals import RiskSignals

_Stages = tuple[tuple[Rule, ...], tuple[Rule, ...], tuple[Rule, ...]]
_STAGE_CACHE: dict[int, tuple[RuleSet, _Stages]] = {}


def _stages(ruleset: RuleSet) -> _Stages:
    cached = _STAGE_CACHE.get(id(ruleset))
    if cached is not None and cached[0] is ruleset:
        return cached[1]
    stages = tuple(tuple(r for r in ALL_RULES if rule_action(r, ruleset) is action)
                   for action in (RiskAction.REJECT, RiskAction.REVIEW, RiskAction.VERIFY))
    if len(_STAGE_CACHE) > 64:
        _STAGE_CACHE.clear()
    _STAGE_CACHE[id(ruleset)] = (ruleset, stages)
    return stages


def allow_lane(facts: PlacementFacts, signals: RiskSignals, ruleset: RuleSet) -> Reason | None:
    """Fires for a known good buyer (completed orders, no disputes, unlisted) with a small order."""
    lane = ruleset.allow_lane
    completed, disputes = signals.orders_completed, signals.disputes
    if not lane.enabled or completed is None or disputes is None:
        return None
    if completed < lane.min_completed_orders or disputes or signals.blacklist_hits:
        return None
    if facts.amount > lane.max_amount:
        return None
    return Reason("allow_lane", f"known good buyer with {completed} completed orders",
                  {"orders_completed": completed, "amount": facts.amount})


def _score_reason(rule: str, score: float, facts, signals, ruleset, scorer) -> Reason:
    values: dict[str, object] = {"score": score}
    if scorer is None:
        values["evidence"] = {k: round(v, 3) for k, v in evidence(facts, signals, ruleset).items()}
    return Reason(rule, f"behavioural score {score:.0f}", values)


def decide(
    facts: PlacementFacts,
    signals: RiskSignals,
    ruleset: RuleSet,
    scorer: ScoreFunction | None = None,
) -> RiskDecision:
    """Approve, review or reject this order, with the reasons and the behavioural score."""
    score = (scorer or weighted_score)(facts, signals, ruleset)
    lane = allow_lane(facts, signals, ruleset)
    if lane is not None:
        return RiskDecision(RiskAction.APPROVE, score, (lane,))
    blocks, reviews, verifies = _stages(ruleset)
    hits = _fired(blocks, facts, signals, ruleset)
    if hits:
        return RiskDecision(RiskAction.REJECT, score, hits)
    bands = ruleset.score
    if score >= bands.reject_at:
        reason = _score_reason("score_reject", score, facts, signals, ruleset, scorer)
        return RiskDecision(RiskAction.REJECT, score, (reason,))
    hits = _fired(reviews, facts, signals, ruleset)
    if score >= bands.review_at:
        hits += (_score_reason("score_review", score, facts, signals, ruleset, scorer),)
    if hits:
        return RiskDecision(RiskAction.REVIEW, score, hits)
    hits = _fired(verifies, facts, signals, ruleset)
    if hits and not facts.phone:  # nothing to send a code to: a person decides instead
        return RiskDecision(RiskAction.REVIEW, score, (*hits, Reason(
            "no_phone_to_verify", "verification asked for, but the order has no phone", {})))
    if hits:
        return RiskDecision(RiskAction.VERIFY, score, hits)
    return RiskDecision(RiskAction.APPROVE, score, ())


def _fired(rules: tuple[Rule, ...], facts: PlacementFacts, signals: RiskSignals,
           ruleset: RuleSet) -> tuple[Reason, ...]:
    return tuple(r for r in (rule(facts, signals, ruleset) for rule in rules) if r is not None)
