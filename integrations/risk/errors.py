"""Risk-control errors (part of the orderpilot error family, so the CLI shows one line)."""

from __future__ import annotations

from statemachine.errors import OrderPilotError


class ReviewAlreadyDecided(OrderPilotError):
    """The order is no longer under review: someone decided it already (or it never was)."""

    code = "review_already_decided"

    def __init__(self, order_id: str, state: str, decided_by: str | None = None,
                 decision: str | None = None):
        self.order_id, self.state = order_id, state
        self.decided_by, self.decision = decided_by, decision
        who = f": {decision} by {decided_by}" if decided_by else ""
        super().__init__(f"order {order_id} is not under review (state {state}){who}; "
                         f"nothing changed")
