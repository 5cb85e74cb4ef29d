"""Ports: what orderpilot needs from carriers, payment gateways and notification channels.

Protocols only, with the value types they exchange. Real and simulated adapters live in
`integrations/`; fakes live in `tests/`. One contract test runs against each of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from statemachine.errors import OrderPilotError
from statemachine.tracking import CarrierStatus

# --- carriers -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CarrierProfile:
    """Per-carrier terms: how many days delivery is promised in, and from which declared
    value (minor units) a parcel is insured."""

    name: str
    promised_days: int = 5
    insured_value_threshold: int = 50_000


@dataclass(frozen=True, slots=True)
class WaybillRequest:
    order_id: str
    parcel_no: int
    warehouse: str
    address: Mapping[str, str]
    declared_value: int  # minor units
    direction: str = "outbound"  # outbound (to the buyer) | return (the buyer sends it back)


@dataclass(frozen=True, slots=True)
class Waybill:
    carrier: str
    tracking_no: str
    created_at: datetime
    promised_by: datetime
    insured: bool


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    event_id: str
    tracking_no: str
    status: CarrierStatus
    at: datetime
    location: str | None = None


@dataclass(frozen=True, slots=True)
class ChaseTicket:
    ticket_id: str
    tracking_no: str
    reason: str
    at: datetime


class Carrier(Protocol):
    profile: CarrierProfile

    def create_waybill(self, request: WaybillRequest) -> Waybill: ...

    def tracking(self, tracking_no: str) -> list[TrackingEvent]:
        """Every event the carrier has for the parcel up to now, oldest first."""
        ...

    def chase(self, tracking_no: str, reason: str) -> ChaseTicket:
        """Ask the carrier to look for a stalled parcel; returns their ticket."""
        ...


class UnknownParcel(OrderPilotError, LookupError):
    code = "unknown_parcel"

    def __init__(self, carrier: str, tracking_no: str):
        self.carrier, self.tracking_no = carrier, tracking_no
        super().__init__(f"carrier {carrier} has no parcel {tracking_no}")


# --- payments -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RefundLine:
    line_no: int
    quantity: int
    amount: int


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """What the gateway did: `ref` names the capture (for a capture) or the refund / void."""

    kind: str  # capture | refund | void
    ref: str
    payment_ref: str
    amount: int
    currency: str
    idempotency_key: str
    lines: tuple[RefundLine, ...] = field(default=())


class PaymentError(OrderPilotError):
    code = "payment_error"


class TransientPaymentError(PaymentError):
    """Timeouts, rate limits, 5xx: nothing happened; retry with the same idempotency key."""

    code = "payment_transient"


class PermanentPaymentError(PaymentError):
    """Declined, unknown capture, over-refund: retrying cannot help; compensate instead."""

    code = "payment_permanent"


class PaymentGateway(Protocol):
    def capture(self, order_id: str, amount: int, currency: str, *,
                idempotency_key: str) -> PaymentResult: ...

    def refund(self, payment_ref: str, amount: int, *, idempotency_key: str,
               lines: tuple[RefundLine, ...] = ()) -> PaymentResult:
        """Refund part of a capture; with `lines`, their amounts must add up to `amount`."""
        ...

    def void(self, payment_ref: str, *, idempotency_key: str) -> PaymentResult:
        """Cancel a capture that has not been refunded at all."""
        ...


# --- notifications ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Message:
    """A rendered notification; PII is already masked in `title` and `body`."""

    event: str
    audience: str  # buyer | reviewer | ops
    title: str
    body: str
    order_id: str | None = None
    # where one buyer is reached (phone, email): fills {phone} / {email} in the buyer's
    # channel URLs; never rendered into the text, never logged
    contact: Mapping[str, str] | None = None


class Notifier(Protocol):
    def send(self, message: Message) -> bool:
        """Deliver to every configured channel for the audience; True if all accepted it."""
        ...
