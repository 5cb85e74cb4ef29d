"""In-memory fakes of the ports, for unit tests; they pass the same contract tests as the
simulated adapters."""

from __future__ import annotations

from datetime import timedelta

from statemachine.clock import Clock
from statemachine.ports import (
    CarrierProfile,
    ChaseTicket,
    Checkout,
    Message,
    PaymentResult,
    PermanentPaymentError,
    RefundLine,
    TrackingEvent,
    UnknownParcel,
    Waybill,
    WaybillRequest,
)
from statemachine.tracking import CarrierStatus


class FakeCarrier:
    """Parcels only move when a test pushes an event."""

    def __init__(self, profile: CarrierProfile, clock: Clock):
        self.profile, self.clock = profile, clock
        self.events: dict[str, list[TrackingEvent]] = {}
        self.chases: list[ChaseTicket] = []

    def create_waybill(self, request: WaybillRequest) -> Waybill:
        now, number = self.clock.now(), f"FAKE-{len(self.events) + 1}"
        self.events[number] = []
        self.push(number, CarrierStatus.LABEL_CREATED)
        return Waybill(self.profile.name, number, now,
                       now + timedelta(days=self.profile.promised_days),
                       request.declared_value >= self.profile.insured_value_threshold,
                       remark=request.flag)

    def push(self, tracking_no: str, status: CarrierStatus, location: str | None = None) -> None:
        events = self.events[tracking_no]
        events.append(TrackingEvent(f"{tracking_no}:{len(events) + 1}", tracking_no, status,
                                    self.clock.now(), location))

    def tracking(self, tracking_no: str) -> list[TrackingEvent]:
        if tracking_no not in self.events:
            raise UnknownParcel(self.profile.name, tracking_no)
        return [e for e in self.events[tracking_no] if e.at <= self.clock.now()]

    def chase(self, tracking_no: str, reason: str) -> ChaseTicket:
        self.tracking(tracking_no)
        ticket = ChaseTicket(f"chase-{len(self.chases) + 1}", tracking_no, reason,
                             self.clock.now())
        self.chases.append(ticket)
        return ticket


class FakeGateway:
    """Never fails transiently; keeps payments and keys in dicts."""

    provider = "fake"

    def __init__(self) -> None:
        self.amounts: dict[str, int] = {}
        self.state: dict[str, str] = {}  # open | authorised | captured | voided
        self.refunded: dict[str, int] = {}
        self.keys: dict[str, tuple[tuple, object]] = {}

    def _keyed(self, key: str, request: tuple, make):  # type: ignore[no-untyped-def]
        if key in self.keys:
            if self.keys[key][0] != request:
                raise PermanentPaymentError(f"key {key} reused for another request")
            return self.keys[key][1]
        result = make()
        self.keys[key] = (request, result)
        return result

    def checkout(self, order_id: str, amount: int, currency: str, *,
                 idempotency_key: str) -> Checkout:
        def make() -> Checkout:
            if amount <= 0:
                raise PermanentPaymentError("amount must be positive")
            ref = f"fake-{len(self.amounts) + 1}"
            self.amounts[ref], self.state[ref], self.refunded[ref] = amount, "open", 0
            return Checkout(self.provider, ref, amount, currency, idempotency_key)

        return self._keyed(idempotency_key, ("o", order_id, amount, currency), make)

    def authorise(self, payment_ref: str) -> None:
        if self.state.get(payment_ref) != "open":
            raise ValueError(f"{payment_ref} is {self.state.get(payment_ref)}")
        self.state[payment_ref] = "authorised"

    def capture(self, payment_ref: str, amount: int, currency: str, *,
                idempotency_key: str) -> PaymentResult:
        def make() -> PaymentResult:
            if self.state.get(payment_ref) != "authorised" or amount > self.amounts[payment_ref]:
                raise PermanentPaymentError(f"{payment_ref} cannot capture {amount}")
            self.state[payment_ref], self.amounts[payment_ref] = "captured", amount
            return PaymentResult("capture", f"{payment_ref}-c", payment_ref, amount, currency,
                                 idempotency_key)

        return self._keyed(idempotency_key, ("c", payment_ref, amount, currency), make)

    def refund(self, payment_ref: str, amount: int, *, idempotency_key: str,
               lines: tuple[RefundLine, ...] = (), currency: str | None = None
               ) -> PaymentResult:
        def make() -> PaymentResult:
            if self.state.get(payment_ref) != "captured":
                raise PermanentPaymentError(f"{payment_ref} was not captured")
            left = self.amounts[payment_ref] - self.refunded[payment_ref]
            if (lines and sum(ln.amount for ln in lines) != amount) or not 0 < amount <= left:
                raise PermanentPaymentError(f"cannot refund {amount} (left {left})")
            self.refunded[payment_ref] += amount
            return PaymentResult("refund", f"{payment_ref}-r{len(self.keys)}", payment_ref,
                                 amount, "CNY", idempotency_key, lines)

        return self._keyed(idempotency_key, ("r", payment_ref, amount, lines), make)

    def void(self, payment_ref: str, *, idempotency_key: str) -> PaymentResult:
        def make() -> PaymentResult:
            if self.state.get(payment_ref) not in ("open", "authorised"):
                raise PermanentPaymentError(f"{payment_ref} cannot be voided")
            self.state[payment_ref] = "voided"
            return PaymentResult("void", f"{payment_ref}-v", payment_ref,
                                 self.amounts[payment_ref], "CNY", idempotency_key)

        return self._keyed(idempotency_key, ("v", payment_ref), make)


class RecordingNotifier:
    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> bool:
        self.sent.append(message)
        return True
