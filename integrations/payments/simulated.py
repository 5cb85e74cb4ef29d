"""A deterministic simulated payment gateway: captures, partial / line-level refunds, voids.

Every call carries an idempotency key: the same key with the same request returns the first
result; with a different request it is refused. Failures are classified: `TransientPayment
Error` (nothing happened, retry with the same key) and `PermanentPaymentError` (declined,
over-refund, unknown capture: compensate). Transient failures are drawn from a seeded random
generator, so a run is reproducible.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field

from statemachine.ports import (
    PaymentResult,
    PermanentPaymentError,
    RefundLine,
    TransientPaymentError,
)


@dataclass
class _Capture:
    order_id: str
    amount: int
    currency: str
    refunded: int = 0
    voided: bool = False
    refunds: list[PaymentResult] = field(default_factory=list)


class SimulatedGateway:
    def __init__(self, *, seed: int = 0, transient_rate: float = 0.0,
                 decline_above: int | None = None):
        self._rng = random.Random(seed)
        self.transient_rate, self.decline_above = transient_rate, decline_above
        self._captures: dict[str, _Capture] = {}
        self._by_key: dict[str, tuple[tuple, PaymentResult]] = {}

    def capture(self, order_id: str, amount: int, currency: str, *,
                idempotency_key: str) -> PaymentResult:
        request = ("capture", order_id, amount, currency)
        return self._once(idempotency_key, request, lambda: self._capture(*request[1:],
                                                                         idempotency_key))

    def refund(self, payment_ref: str, amount: int, *, idempotency_key: str,
               lines: tuple[RefundLine, ...] = ()) -> PaymentResult:
        request = ("refund", payment_ref, amount, lines)
        return self._once(idempotency_key, request,
                          lambda: self._refund(payment_ref, amount, lines, idempotency_key))

    def void(self, payment_ref: str, *, idempotency_key: str) -> PaymentResult:
        return self._once(idempotency_key, ("void", payment_ref),
                          lambda: self._void(payment_ref, idempotency_key))

    def _once(self, key: str, request: tuple, call) -> PaymentResult:
        if not key:
            raise PermanentPaymentError("an idempotency key is required")
        if key in self._by_key:
            first, result = self._by_key[key]
            if first != request:
                raise PermanentPaymentError(f"idempotency key {key!r} was used for another "
                                            "request")
            return result
        if self._rng.random() < self.transient_rate:
            raise TransientPaymentError("gateway timeout (simulated); retry with the same key")
        result = call()
        self._by_key[key] = (request, result)
        return result

    def _capture(self, order_id: str, amount: int, currency: str, key: str) -> PaymentResult:
        if amount <= 0:
            raise PermanentPaymentError(f"amount must be positive (got {amount})")
        if self.decline_above is not None and amount > self.decline_above:
            raise PermanentPaymentError(f"card declined for {amount} {currency}")
        ref = f"cap-{len(self._captures) + 1:06d}"
        self._captures[ref] = _Capture(order_id, amount, currency)
        return PaymentResult("capture", ref, ref, amount, currency, key)

    def _refund(self, payment_ref: str, amount: int, lines: tuple[RefundLine, ...],
                key: str) -> PaymentResult:
        capture = self._live(payment_ref)
        if lines and sum(line.amount for line in lines) != amount:
            raise PermanentPaymentError(f"refund lines add up to "
                                        f"{sum(ln.amount for ln in lines)}, not {amount}")
        if not 0 < amount <= capture.amount - capture.refunded:
            raise PermanentPaymentError(f"refund of {amount} exceeds what is left on "
                                        f"{payment_ref} ({capture.amount - capture.refunded})")
        capture.refunded += amount
        result = PaymentResult("refund", f"{payment_ref}-rf{len(capture.refunds) + 1}",
                               payment_ref, amount, capture.currency, key, lines)
        capture.refunds.append(result)
        return result

    def _void(self, payment_ref: str, key: str) -> PaymentResult:
        capture = self._live(payment_ref)
        if capture.refunded:
            raise PermanentPaymentError(f"{payment_ref} was partly refunded; refund the rest")
        capture.voided = True
        return PaymentResult("void", f"{payment_ref}-void", payment_ref, capture.amount,
                             capture.currency, key)

    def _live(self, payment_ref: str) -> _Capture:
        capture = self._captures.get(payment_ref)
        if capture is None:
            raise PermanentPaymentError(f"no capture {payment_ref}")
        if capture.voided:
            raise PermanentPaymentError(f"{payment_ref} was voided")
        return capture


class AdoptingGateway(SimulatedGateway):
    """The simulated gateway for payments captured elsewhere (they reached orderpilot by
    webhook): an unknown payment_ref is adopted as a capture with nothing refunded yet."""

    def _live(self, payment_ref: str) -> _Capture:
        if payment_ref not in self._captures:
            self._captures[payment_ref] = _Capture("", sys.maxsize, "")
        return super()._live(payment_ref)
