"""The seam between order placement and risk control.

Placement builds a `PlacementFacts` and asks a `RiskCheck` for a `RiskDecision` inside the
placement transaction. The rules themselves live in `statemachine.risk` (pure); gathering the
signals they need (counts, lists, credit) is an adapter's job in `integrations`. The values
are defined in `statemachine.risk.facts` and named here too, the seam's public face.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from statemachine.risk.correction import CorrectionVerdict
from statemachine.risk.facts import (
    PlacedLine,
    PlacementFacts,
    Reason,
    RiskAction,
    RiskDecision,
)
from statemachine.risk.ports import RiskSignalStore

__all__ = ["CorrectionCheck", "CorrectionVerdict", "PlacedLine", "PlacementFacts", "Reason",
           "RiskAction", "RiskCheck", "RiskDecision", "approve_everything"]


class RiskCheck(Protocol):
    """Decides approve / review / reject for a new order, reading signals from `store` (bound
    to the placement transaction) and recording what it decided there."""

    def __call__(self, facts: PlacementFacts, store: RiskSignalStore) -> RiskDecision: ...


def approve_everything(facts: PlacementFacts, store: RiskSignalStore) -> RiskDecision:
    """The trivial default until a rule set is configured: every order is approved."""
    return RiskDecision(RiskAction.APPROVE, 0.0, (Reason("default", "no risk rules configured"),))


@runtime_checkable
class CorrectionCheck(Protocol):
    """A risk check that also judges a corrected address (`correct_address`) by placement's
    address rules; a check without it (`approve_everything`) judges nothing."""

    def judge_correction(self, facts: PlacementFacts, store: RiskSignalStore
                         ) -> CorrectionVerdict: ...
