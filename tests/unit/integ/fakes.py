"""In-memory fakes of the ports, for unit tests; they pass the same contract tests as the
simulated adapters."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from statemachine.clock import Clock
from statemachine.ports import (
    CarrierProfile,
    ChaseTicket,
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
                       request.declared_value >= self.profile.insured_value_threshold)

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
    """Never fails transiently; keeps captures and keys in dicts."""

    def __init__(self) -> None:
        self.captured: dict[str, int] = {}
        self.refunded: dict[str, int] = {}
        self.voided: set[str] = set()
        self.keys: dict[str, tuple[tuple, PaymentResult]] = {}

    def _keyed(self, key: str, request: tuple, make) -> PaymentResult:
        if key in self.keys:
            if self.keys[key][0] != request:
                raise PermanentPaymentError(f"key {key} reused for another request")
            return self.keys[key][1]
        result = make()
        self.keys[key] = (request, result)
        return result

    def capture(self, order_id: str, amount: int, currency: str, *,
                idempotency_key: str) -> PaymentResult:
        def make() -> PaymentResult:
            if amount <= 0:
                raise PermanentPaymentError("amount must be positive")
            ref = f"fake-{len(self.captured) + 1}"
            self.captured[ref], self.refunded[ref] = amount, 0
            return PaymentResult("capture", ref, ref, amount, currency, idempotency_key)

        return self._keyed(idempotency_key, ("c", order_id, amount, currency), make)

    def refund(self, payment_ref: str, amount: int, *, idempotency_key: str,
               lines: tuple[RefundLine, ...] = ()) -> PaymentResult:
        def make() -> PaymentResult:
            self._check_live(payment_ref)
            left = self.captured[payment_ref] - self.refunded[payment_ref]
            if (lines and sum(ln.amount for ln in lines) != amount) or not 0 < amount <= left:
                raise PermanentPaymentError(f"cannot refund {amount} (left {left})")
            self.refunded[payment_ref] += amount
            return PaymentResult("refund", f"{payment_ref}-r", payment_ref, amount, "CNY",
                                 idempotency_key, lines)

        return self._keyed(idempotency_key, ("r", payment_ref, amount, lines), make)

    def void(self, payment_ref: str, *, idempotency_key: str) -> PaymentResult:
        def make() -> PaymentResult:
            self._check_live(payment_ref)
            if self.refunded[payment_ref]:
                raise PermanentPaymentError("already refunded in part")
            self.voided.add(payment_ref)
            result = PaymentResult("void", f"{payment_ref}-v", payment_ref,
                                   self.captured[payment_ref], "CNY", idempotency_key)
            return replace(result)

        return self._keyed(idempotency_key, ("v", payment_ref), make)

    def _check_live(self, ref: str) -> None:
        if ref not in self.captured or ref in self.voided:
            raise PermanentPaymentError(f"no live capture {ref}")


class RecordingNotifier:
    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> bool:
        self.sent.append(message)
        return True
