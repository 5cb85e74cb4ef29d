"""A verifier for the demo and tests: keeps what it would have sent, the code included."""

from __future__ import annotations

from statemachine.verification import Challenge


class SimulatedVerifier:
    def __init__(self, accept: bool = True):
        self.accept = accept  # False: the SMS gateway refuses (tests of a failed send)
        self.sent: list[Challenge] = []

    def send(self, challenge: Challenge) -> bool:
        if self.accept:
            self.sent.append(challenge)
        return self.accept

    def code_for(self, order_id: str) -> str:
        """The last code sent for the order (what the buyer reads on their phone)."""
        return next(c.code for c in reversed(self.sent) if c.order_id == order_id)
