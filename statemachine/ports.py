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
    # printed on the label (its remark, 备注) where packer and courier see it: why the address
    # must be checked first (its province, city or district contradict each other). An adapter
    # that cannot print it must refuse the label rather than drop it.
    flag: str | None = None


@dataclass(frozen=True, slots=True)
class Waybill:
    carrier: str
    tracking_no: str
    created_at: datetime
    promised_by: datetime
    insured: bool
    remark: str | None = None  # what the label prints in its remark (备注): the request's flag


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


class WaybillRefused(OrderPilotError):
    """The carrier would not sell the label (an address it does not serve, a remark it cannot
    print): an adapter raises this, never its SDK's own error. Nothing was bought."""

    code = "waybill_refused"

    def __init__(self, carrier: str, order_id: str, reason: str):
        self.carrier, self.order_id, self.reason = carrier, order_id, reason
        super().__init__(f"carrier {carrier} refused the waybill for {order_id}: {reason}")


class CarrierUnavailable(OrderPilotError):
    """The carrier did not answer (a timeout, a refused connection): nothing is known to have
    been bought; asking again is safe (a label bought but never used is voided)."""

    code = "carrier_unavailable"

    def __init__(self, carrier: str, what: str, detail: str):
        self.carrier, self.what, self.detail = carrier, what, detail
        super().__init__(f"carrier {carrier} did not answer ({detail}): {what}; try again")


# --- payments -----------------------------------------------------------------------------------
# Money is integer minor units. Every call carries an idempotency key derived from orderpilot's
# own ids (`capture:o-42`, `refund:c-7`): a retry with the same key never moves money twice.


@dataclass(frozen=True, slots=True)
class RefundLine:
    line_no: int
    quantity: int
    amount: int


@dataclass(frozen=True, slots=True)
class Checkout:
    """A payment opened at the provider for the buyer to complete (authorise) in the shop's
    checkout: `client_secret` for Stripe.js, `pay_url` (QR code / page) for Alipay."""

    provider: str
    payment_ref: str
    amount: int
    currency: str
    idempotency_key: str
    client_secret: str | None = None
    pay_url: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """What the gateway did: `ref` names the capture, refund or void; `status` is `succeeded`,
    or `pending` when the provider settles it later (it then confirms by webhook)."""

    kind: str  # capture | refund | void
    ref: str
    payment_ref: str
    amount: int
    currency: str
    idempotency_key: str
    lines: tuple[RefundLine, ...] = field(default=())
    status: str = "succeeded"
    fee: int = 0  # the provider's fee on this movement, when it says (minor units)


class PaymentError(OrderPilotError):
    code = "payment_error"


class TransientPaymentError(PaymentError):
    """Timeouts, rate limits, 5xx: nothing happened; retry with the same idempotency key."""

    code = "payment_transient"


class PermanentPaymentError(PaymentError):
    """Declined, unknown capture, over-refund: retrying cannot help; compensate instead."""

    code = "payment_permanent"


class PaymentGateway(Protocol):
    provider: str

    def checkout(self, order_id: str, amount: int, currency: str, *,
                 idempotency_key: str) -> Checkout:
        """Open a payment for the buyer to authorise; captured later by `capture`."""
        ...

    def capture(self, payment_ref: str, amount: int, currency: str, *,
                idempotency_key: str) -> PaymentResult:
        """Capture `amount` of an authorised payment."""
        ...

    def refund(self, payment_ref: str, amount: int, *, idempotency_key: str,
               lines: tuple[RefundLine, ...] = (), currency: str | None = None
               ) -> PaymentResult:
        """Refund part of a capture; with `lines`, their amounts must add up to `amount`.
        `currency`: the payment's, in which `amount` is counted (late money may have come in
        another currency than its order's); a provider refuses a refund in any other."""
        ...

    def void(self, payment_ref: str, *, idempotency_key: str) -> PaymentResult:
        """Release a payment that was never captured (an authorisation, or an unpaid trade)."""
        ...


class DisputeDesk(Protocol):
    """Where a shop answers chargebacks (Stripe; the simulated gateway for the demo)."""

    def submit_evidence(self, dispute_ref: str, evidence: Mapping[str, str], *,
                        idempotency_key: str) -> str:
        """Send the evidence (Stripe's field names, text) and submit it; returns the
        provider's dispute status."""
        ...

    def accept(self, dispute_ref: str, *, idempotency_key: str) -> str:
        """Concede the dispute (the money stays with the buyer); returns the status."""
        ...


@dataclass(frozen=True, slots=True)
class SettlementRecord:
    """One line of the provider's own books for a day: a charge, refund, dispute or fee."""

    kind: str  # charge | refund | dispute | fee
    ref: str  # the provider's id of the movement (capture, refund, dispute)
    payment_ref: str | None
    amount: int  # signed as the provider books it: money in > 0, money out < 0
    currency: str
    fee: int
    at: datetime


class SettlementSource(Protocol):
    def settlement(self, start: datetime, end: datetime) -> list[SettlementRecord]:
        """Every money movement the provider booked in [start, end)."""
        ...


@dataclass(frozen=True, slots=True)
class MoneyEvent:
    """A provider's notification, verified and translated: what happened to which payment.

    kind: authorised | processing | captured | failed | refunded | closed | dispute_opened |
    dispute_updated | dispute_closed | dispute_funds_withdrawn | dispute_funds_reinstated.
    `amount` is the event's own amount: authorised, captured, refunded *so far* (cumulative, as
    both providers report it) or disputed. `refund_ref`: which refund request a refund notice is
    about, if the provider names it (it tells our refunds from staff's).
    """

    provider: str
    event_id: str
    kind: str
    payment_ref: str
    amount: int
    currency: str
    occurred_at: datetime
    order_id: str | None = None
    dispute_ref: str | None = None
    # a dispute's: the provider's status (Stripe's), or for a gateway without statuses of its
    # own won | lost | closed (an inquiry, no chargeback), None while open (the tables:
    # integrations/ingest/dispute_steps.py); a failure: the reason
    outcome: str | None = None
    reason: str | None = None
    due_by: datetime | None = None
    # a dispute's: inquiry (the bank asks, no money taken: Stripe's warning_* statuses,
    # Shopify's type) | chargeback
    dispute_kind: str = "chargeback"
    # a refund notice's own refund request, when the provider names it (Alipay's out_biz_no:
    # the out_request_no of a refund we asked for; "" — none named — for one made in its
    # merchant portal); None: the provider does not say (Stripe)
    refund_ref: str | None = None


class WebhookRefused(OrderPilotError):
    """A provider notification failed its signature, freshness or shape check: nothing applied."""

    code = "webhook_refused"


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
