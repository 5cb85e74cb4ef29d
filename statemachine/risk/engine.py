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

from dataclasses import dataclass

from .facts import PlacementFacts, Reason, RiskAction, RiskDecision
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
    """Fires for an allow-listed buyer / device / phone / address / IP (not also blocked), or a
    known good buyer (completed orders, no disputes, unlisted) with a small order. Not when
    the address contradicts itself (广东省 / 杭州市): the lane vouches for the buyer, not for
    where the parcel would go."""
    if facts.address is not None and facts.address.conflicts:
        return None
    if signals.allow_hits and not signals.blacklist_hits:
        kinds = ", ".join(signals.allow_hits)
        return Reason("allow_list", f"on the allow list: {kinds}", {"hits": signals.allow_hits})
    lane = ruleset.allow_lane
    completed, disputes = signals.orders_completed, signals.disputes
    if not lane.enabled or completed is None or disputes is None:
        return None
    if completed < lane.min_completed_orders or disputes or signals.blacklist_hits:
        return None
    band = ruleset.amounts_for(facts.currency)
    if band is None or facts.amount > band.allow_lane_max:  # no band: not a small amount
        return None
    return Reason("allow_lane", f"known good buyer with {completed} completed orders",
                  {"orders_completed": completed, "amount": facts.amount})


def _score_reason(rule: str, score: float, facts, signals, ruleset, scorer) -> Reason:
    values: dict[str, object] = {"score": score}
    if scorer is None:
        values["evidence"] = {k: round(v, 3) for k, v in evidence(facts, signals, ruleset).items()}
    return Reason(rule, f"behavioural score {score:.0f}", values)


@dataclass(frozen=True, slots=True)
class Assessment:
    """Every rule's verdict and the score, before the score bands turn them into an action:
    the backtest replays bands over these without re-reading any signal."""

    score: float
    lane: Reason | None
    blocks: tuple[Reason, ...]
    reviews: tuple[Reason, ...]
    verifies: tuple[Reason, ...]
    can_verify: bool  # there is a phone to send a code to


def assess(facts: PlacementFacts, signals: RiskSignals, ruleset: RuleSet,
           scorer: ScoreFunction | None = None) -> Assessment:
    """Run every rule and the score on one order."""
    blocks, reviews, verifies = _stages(ruleset)
    return Assessment((scorer or weighted_score)(facts, signals, ruleset),
                      allow_lane(facts, signals, ruleset),
                      _fired(blocks, facts, signals, ruleset),
                      _fired(reviews, facts, signals, ruleset),
                      _fired(verifies, facts, signals, ruleset), bool(facts.phone))


def action_for(a: Assessment, reject_at: float, review_at: float) -> RiskAction:
    """The evaluation order of the module docstring, for the given score bands."""
    if a.lane is not None:
        return RiskAction.APPROVE
    if a.blocks or a.score >= reject_at:
        return RiskAction.REJECT
    if a.reviews or a.score >= review_at or (a.verifies and not a.can_verify):
        return RiskAction.REVIEW
    return RiskAction.VERIFY if a.verifies else RiskAction.APPROVE


def decide(
    facts: PlacementFacts,
    signals: RiskSignals,
    ruleset: RuleSet,
    scorer: ScoreFunction | None = None,
) -> RiskDecision:
    """Approve, verify, review or reject this order, with the reasons and the score."""
    return settle(assess(facts, signals, ruleset, scorer), facts, signals, ruleset, scorer)


def settle(a: Assessment, facts: PlacementFacts, signals: RiskSignals, ruleset: RuleSet,
           scorer: ScoreFunction | None = None) -> RiskDecision:
    """The decision an assessment comes to under the rule set's score bands."""
    action = action_for(a, ruleset.score.reject_at, ruleset.score.review_at)
    return RiskDecision(action, a.score, _reasons(a, action, facts, signals, ruleset, scorer))


def _reasons(a: Assessment, action: RiskAction, facts, signals, ruleset, scorer
             ) -> tuple[Reason, ...]:
    bands = ruleset.score
    if action is RiskAction.APPROVE:
        return (a.lane,) if a.lane is not None else ()
    if action is RiskAction.REJECT:
        return a.blocks or (_score_reason("score_reject", a.score, facts, signals, ruleset,
                                          scorer),)
    if action is RiskAction.VERIFY:
        return a.verifies
    reasons = a.reviews
    if a.score >= bands.review_at:
        reasons += (_score_reason("score_review", a.score, facts, signals, ruleset, scorer),)
    if not reasons:  # verification was asked for, but there is nothing to send a code to
        reasons = (*a.verifies, Reason("no_phone_to_verify",
                                       "verification asked for, but the order has no phone", {}))
    return reasons


def _fired(rules: tuple[Rule, ...], facts: PlacementFacts, signals: RiskSignals,
           ruleset: RuleSet) -> tuple[Reason, ...]:
    return tuple(r for r in (rule(facts, signals, ruleset) for rule in rules) if r is not None)
