"""Pure risk engine: rules, behavioural score, credit arithmetic. No I/O, stdlib only."""

from .blacklist import Blacklist, blacklist_hits, parse_networks
from .credit import CreditChange, CreditEvent, CreditEventKind, apply_credit_event, replay_credit
from .engine import decide
from .ruleset import RuleSet
from .score import ScoreFunction, weighted_score
from .signals import RiskSignals

__all__ = [
    "Blacklist", "CreditChange", "CreditEvent", "CreditEventKind", "RiskSignals", "RuleSet",
    "ScoreFunction", "apply_credit_event", "blacklist_hits", "decide", "parse_networks",
    "replay_credit", "weighted_score",
]
