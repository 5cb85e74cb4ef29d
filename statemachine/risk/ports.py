"""What a risk check may ask of storage: the signals reader and the decision recorder.

The pure engine never reads a database. Placement hands a `RiskCheck` one `RiskSignalStore`
bound to its transaction; the SQL one is `integrations.risk.sql_store` (its statements in
`integrations.db.risk_signals`), the in-memory one used by the backtest
`integrations.risk.signal_store`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from .facts import PlacementFacts, RiskDecision
from .ruleset import RuleSet
from .signals import RiskSignals

LIVE, SHADOW = "live", "shadow"


@dataclass(frozen=True, slots=True)
class StoredDecision:
    """A decision to keep with the order: `live` (acted on) or `shadow` (a candidate's)."""

    mode: str
    ruleset: str
    decision: RiskDecision


class RiskSignalStore(Protocol):
    """Signals for an order about to be decided, from earlier orders only; and the record of
    the decision, which also moves the maintained counters the next order will read."""

    def signals(self, facts: PlacementFacts, ruleset: RuleSet) -> RiskSignals: ...

    def record(self, facts: PlacementFacts, decisions: Sequence[StoredDecision]) -> None: ...
