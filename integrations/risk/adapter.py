"""The real `RiskCheck`: read signals through the placement's `RiskSignalStore`, call the pure
`decide`, and record the decision (and a shadow candidate's, never acted on) with the order."""

from __future__ import annotations

from dataclasses import dataclass

from statemachine.risk.correction import CorrectionVerdict, judge_correction
from statemachine.risk.engine import decide
from statemachine.risk.ports import LIVE, SHADOW, RiskSignalStore, StoredDecision
from statemachine.risk.ruleset import RuleSet
from statemachine.risk.score import ScoreFunction
from statemachine.risk_port import PlacementFacts, RiskDecision


@dataclass(frozen=True)
class RuleSetRiskCheck:
    """`RiskCheck` backed by a rule set (and optionally a learned scorer and a shadow set)."""

    ruleset: RuleSet
    scorer: ScoreFunction | None = None
    shadow: RuleSet | None = None

    def __call__(self, facts: PlacementFacts, store: RiskSignalStore) -> RiskDecision:
        decision = self.evaluate(facts, store, self.ruleset)
        kept = [StoredDecision(LIVE, self.ruleset.name, decision)]
        if self.shadow is not None:
            candidate = self.evaluate(facts, store, self.shadow)
            kept.append(StoredDecision(SHADOW, self.shadow.name, candidate))
        store.record(facts, kept)
        return decision

    def evaluate(self, facts: PlacementFacts, store: RiskSignalStore,
                 ruleset: RuleSet) -> RiskDecision:
        """Decide under `ruleset` with signals read now (nothing stored)."""
        return decide(facts, store.signals(facts, ruleset), ruleset, self.scorer)

    def judge_correction(self, facts: PlacementFacts, store: RiskSignalStore
                         ) -> CorrectionVerdict:
        """Placement's address rules on a corrected address (live rule set; nothing stored,
        no shadow: a correction is no placement to compare)."""
        return judge_correction(facts, store.signals(facts, self.ruleset), self.ruleset)
