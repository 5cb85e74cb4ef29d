"""Step-up verification: the buyer proves control of the order's phone with a one-time code.

The risk engine sends an order to `verifying` instead of to a reviewer (the manuals: "more than
5 orders in an hour → verification"). A `Verifier` delivers the code; passing approves the
order, a third wrong code or the timer rejects it. Codes are compared by hash, never stored.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

MAX_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Challenge:
    order_id: str
    phone: str  # E.164
    code: str
    expires_at: datetime


class Verifier(Protocol):
    """Delivers a challenge to the buyer (SMS, a captcha link ...); True once accepted."""

    def send(self, challenge: Challenge) -> bool: ...


def code_hash(order_id: str, code: str) -> str:
    """What is stored instead of the code (salted with the order id)."""
    return hashlib.sha256(f"{order_id}:{code.strip()}".encode()).hexdigest()


def code_matches(order_id: str, code: str, stored_hash: str) -> bool:
    return hmac.compare_digest(code_hash(order_id, code), stored_hash)
