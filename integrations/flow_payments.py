"""Payment adapters. `SimulatedGateway` refunds like a gateway would: once per key."""

from __future__ import annotations

import hashlib

from statemachine.flow_ports import RefundReceipt


class SimulatedGateway:
    """A gateway for the demo and tests; a repeated idempotency key returns the same receipt."""

    def __init__(self) -> None:
        self._done: dict[str, RefundReceipt] = {}

    def refund(self, payment_ref: str, amount: int, idempotency_key: str) -> RefundReceipt:
        if idempotency_key not in self._done:
            digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:10]
            self._done[idempotency_key] = RefundReceipt(payment_ref, amount, f"rf-{digest}")
        return self._done[idempotency_key]
