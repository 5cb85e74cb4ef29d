"""Ports the orchestration flows talk through: notifier, carrier desk, refund gateway."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Notice:
    """One message for a person: staff (an escalation) or a buyer (an apology)."""

    audience: str  # "staff" | "buyer"
    subject: str
    body: str
    order_id: str
    tags: tuple[str, ...] = field(default_factory=tuple)


class Notifier(Protocol):
    def send(self, notice: Notice) -> None:
        """Deliver the notice or raise."""


@dataclass(frozen=True, slots=True)
class ChaseTicket:
    """The carrier's answer to a chase: its reference and what it promised."""

    carrier: str
    tracking_no: str
    reference: str
    answer: str


class CarrierDesk(Protocol):
    def chase(self, carrier: str, tracking_no: str, reason: str) -> ChaseTicket:
        """Ask the carrier where a parcel is; returns its ticket or raises."""


@dataclass(frozen=True, slots=True)
class RefundReceipt:
    payment_ref: str
    amount: int
    reference: str


class PaymentGateway(Protocol):
    def refund(self, payment_ref: str, amount: int, idempotency_key: str) -> RefundReceipt:
        """Refund `amount` of a payment; the same key refunds once. Raises on failure."""
