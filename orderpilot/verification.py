"""`pilot.verification`: step-up verification of orders the risk engine did not trust enough
to approve but not doubt enough to show a person (see docs/risk.md)."""

from __future__ import annotations

from integrations.service import verification
from integrations.service.context import Context
from integrations.service.inputs import parse_id
from integrations.service.verification import Answer


class Verification:
    def __init__(self, context: Context):
        self._ctx = context

    def start(self, order_id: str) -> bool:
        """Send the order's code (placement does it already); False if none was sent now."""
        return verification.start(self._ctx, parse_id("order_id", order_id, "o"),
                                  self._ctx.clock.now())

    def answer(self, order_id: str, code: str) -> Answer:
        """The buyer's code: right → approved; wrong → an attempt used; the third → rejected."""
        return verification.answer(self._ctx, parse_id("order_id", order_id, "o"), code,
                                   self._ctx.clock.now())
