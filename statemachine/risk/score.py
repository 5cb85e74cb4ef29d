"""The transparent behavioural score (0-100) and the protocol a learned scorer must follow.

Each piece of evidence e has a risk r in [0, 1] and a weight w in [0, 1]; they combine as a
noisy-OR: score = 100 * (1 - prod(1 - w_e * r_e)). One strong signal alone can reach its weight;
independent weak signals add up without ever passing 100.
"""

from __future__ import annotations

from typing import Protocol

from .facts import PlacementFacts
from .ruleset import RuleSet, ScoreWeights
from .signals import RiskSignals, account_age_seconds


class ScoreFunction(Protocol):
    """Any scorer the engine can use for the behavioural score: returns 0..100."""

    def __call__(self, facts: PlacementFacts, signals: RiskSignals, ruleset: RuleSet) -> float: ...


def _age_risk(age: float | None) -> float:
    if age is None:
        return 0.0
    if age <= 60:
        return 1.0
    if age <= 3600:
        return 0.5
    return 0.25 if age <= 86_400 else 0.0


def _shared_risk(other_buyers: int | None) -> float:
    if not other_buyers:
        return 0.0
    return 0.8 if other_buyers == 1 else 1.0


def _amount_risk(amount: int, mean: float | None) -> float:
    if not mean or mean <= 0:
        return 0.0
    return min(1.0, max(0.0, (amount / mean - 2.0) / 3.0))


def _velocity_risk(signals: RiskSignals, ruleset: RuleSet) -> float:
    counts = signals.velocity
    if not counts:
        return 0.0
    return min(1.0, max(counts.values()) / max(1, ruleset.velocity.max_orders))


def _phone_risk(signals: RiskSignals, ruleset: RuleSet) -> float:
    others = signals.phone_other_buyers
    if not others:
        return 0.0
    return min(1.0, others / max(1, ruleset.phone_velocity.max_buyers))


def evidence(facts: PlacementFacts, signals: RiskSignals, ruleset: RuleSet) -> dict[str, float]:
    """Each evidence name mapped to its weighted risk w*r (zeros left out)."""
    w: ScoreWeights = ruleset.score.weights
    pairs = (
        ("new_account", w.new_account * _age_risk(account_age_seconds(signals, facts.placed_at))),
        ("device_shared", w.device_shared * _shared_risk(signals.device_other_buyers)),
        ("ip_shared", w.ip_shared * _shared_risk(signals.ip_other_buyers)),
        ("amount_vs_history", w.amount_vs_history * _amount_risk(facts.amount,
                                                                 signals.buyer_mean_amount)),
        ("velocity", w.velocity * _velocity_risk(signals, ruleset)),
        ("phone_shared", w.phone_shared * _phone_risk(signals, ruleset)),
    )
    return {name: value for name, value in pairs if value > 0.0}


def weighted_score(facts: PlacementFacts, signals: RiskSignals, ruleset: RuleSet) -> float:
    """The transparent noisy-OR behavioural score, 0..100."""
    keep = 1.0
    for value in evidence(facts, signals, ruleset).values():
        keep *= 1.0 - value
    return round(100.0 * (1.0 - keep), 2)
