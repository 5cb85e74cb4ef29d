"""A deterministic simulated payment provider: checkout, authorise, capture, partial / line-level
refunds, voids, disputes and a settlement report — the default for the demo and the tests.

It behaves like the real providers where orderpilot depends on it: a payment is opened, the
buyer authorises it, orderpilot captures it; only an uncaptured payment can be voided; a refund
beyond what is left of the capture is refused (Stripe: `amount_too_large` /
`charge_already_refunded`; Alipay: `ACQ.REFUND_AMT_NOT_EQUAL_TOTAL`), and so is any refund of a
payment the buyer's bank has charged back (Stripe: `charge_disputed`: a chargeback open, lost
or conceded; once won, the payment may be refunded again). An inquiry (the bank asks before
charging back) takes no money and leaves the payment refundable, as Stripe does, until it
becomes a chargeback: its own disputes (`open_dispute`) are chargebacks, and an adopted
payment's inquiries (the store's) are not counted. Every call carries an idempotency key:
the same key with the same request returns the first result; with a different request it is
refused. Failures are classified: `TransientPaymentError` (nothing happened, retry with the
same key) and `PermanentPaymentError` (declined, over-refund, charged back, unknown payment:
compensate). Transient failures are drawn from a seeded random generator, so a run is
reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from statemachine.ports import (
    Checkout,
    PaymentResult,
    PermanentPaymentError,
    RefundLine,
    SettlementRecord,
    TransientPaymentError,
)


@dataclass
class _Payment:
    order_id: str
    amount: int
    currency: str
    state: str = "open"  # open | authorised | captured | voided
    captured: int = 0
    refunded: int = 0
    refunds: list[PaymentResult] = field(default_factory=list)


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class SimulatedGateway:
    provider = "simulated"

    def __init__(self, *, seed: int = 0, transient_rate: float = 0.0,
                 decline_above: int | None = None, buyer_pays: bool = True,
                 now: Callable[[], datetime] = _wall_clock):
        """`buyer_pays`: a capture of a payment the buyer never authorised authorises it on
        the spot (the simulated buyer always completes the checkout)."""
        self._rng = random.Random(seed)
        self.transient_rate, self.decline_above = transient_rate, decline_above
        self.buyer_pays, self._now = buyer_pays, now
        self._payments: dict[str, _Payment] = {}
        self._by_key: dict[str, tuple[tuple, object]] = {}
        self.disputes: dict[str, dict[str, object]] = {}
        self.books: list[SettlementRecord] = []

    # --- PaymentGateway -----------------------------------------------------------------------

    def checkout(self, order_id: str, amount: int, currency: str, *,
                 idempotency_key: str) -> Checkout:
        request = ("checkout", order_id, amount, currency)
        return self._once(idempotency_key, request,
                          lambda: self._open(order_id, amount, currency, idempotency_key))

    def authorise(self, payment_ref: str) -> None:
        """The buyer completes the checkout (a simulation step, not part of the port)."""
        payment = self._payment(payment_ref, "authorised")
        if payment.state == "open":
            self._decline_if_over(payment.amount, payment.currency)
            payment.state = "authorised"

    def capture(self, payment_ref: str, amount: int, currency: str, *,
                idempotency_key: str) -> PaymentResult:
        request = ("capture", payment_ref, amount, currency)
        return self._once(idempotency_key, request,
                          lambda: self._capture(payment_ref, amount, idempotency_key))

    def refund(self, payment_ref: str, amount: int, *, idempotency_key: str,
               lines: tuple[RefundLine, ...] = (), currency: str | None = None
               ) -> PaymentResult:
        request = ("refund", payment_ref, amount, lines)
        return self._once(idempotency_key, request, lambda: self._refund(
            payment_ref, amount, lines, idempotency_key, currency))

    def void(self, payment_ref: str, *, idempotency_key: str) -> PaymentResult:
        return self._once(idempotency_key, ("void", payment_ref),
                          lambda: self._void(payment_ref, idempotency_key))

    # --- DisputeDesk --------------------------------------------------------------------------

    def open_dispute(self, payment_ref: str, amount: int, reason: str = "fraudulent") -> str:
        """The buyer's bank opens a chargeback (a simulation step); returns the dispute ref."""
        payment = self._payment(payment_ref, "captured")
        ref = f"sim-dp-{len(self.disputes) + 1:06d}"
        self.disputes[ref] = {"payment_ref": payment_ref, "amount": amount, "reason": reason,
                              "status": "needs_response", "evidence": {}}
        self._book("dispute", ref, payment_ref, -amount, payment.currency)
        return ref

    def submit_evidence(self, dispute_ref: str, evidence: Mapping[str, str], *,
                        idempotency_key: str) -> str:
        def submit() -> str:
            dispute = self._dispute(dispute_ref)
            dispute["evidence"], dispute["status"] = dict(evidence), "under_review"
            return "under_review"

        return self._once(idempotency_key, ("evidence", dispute_ref, tuple(evidence.items())),
                          submit)

    def accept(self, dispute_ref: str, *, idempotency_key: str) -> str:
        def accept() -> str:
            self._dispute(dispute_ref)["status"] = "lost"
            return "lost"

        return self._once(idempotency_key, ("accept", dispute_ref), accept)

    # --- SettlementSource ---------------------------------------------------------------------

    def settlement(self, start: datetime, end: datetime) -> list[SettlementRecord]:
        return [r for r in self.books if start <= r.at < end]

    # --- internals ----------------------------------------------------------------------------

    def _once(self, key: str, request: tuple, call: Callable[[], object]):  # type: ignore[no-untyped-def]
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

    def _open(self, order_id: str, amount: int, currency: str, key: str) -> Checkout:
        if amount <= 0:
            raise PermanentPaymentError(f"amount must be positive (got {amount})")
        ref = f"sim-pay-{len(self._payments) + 1:06d}"
        self._payments[ref] = _Payment(order_id, amount, currency)
        return Checkout(self.provider, ref, amount, currency, key,
                        client_secret=f"{ref}_secret")

    def _capture(self, payment_ref: str, amount: int, key: str) -> PaymentResult:
        payment = self._payment(payment_ref, "authorised")
        if payment.state == "open" and self.buyer_pays:
            self.authorise(payment_ref)
        if payment.state != "authorised":
            raise PermanentPaymentError(f"{payment_ref} is {payment.state}, not authorised")
        if not 0 < amount <= payment.amount:
            raise PermanentPaymentError(f"capture of {amount} exceeds the authorised "
                                        f"{payment.amount}")
        payment.state, payment.captured = "captured", amount
        ref = f"{payment_ref}-cap"
        self._book("charge", ref, payment_ref, amount, payment.currency)
        return PaymentResult("capture", ref, payment_ref, amount, payment.currency, key)

    def _refund(self, payment_ref: str, amount: int, lines: tuple[RefundLine, ...],
                key: str, currency: str | None = None) -> PaymentResult:
        payment = self._payment(payment_ref, "captured")
        if payment.state != "captured":
            raise PermanentPaymentError(f"{payment_ref} is {payment.state}: nothing to refund")
        if currency and payment.currency and currency != payment.currency:
            # a refund counted in another currency would give back another sum of money
            raise PermanentPaymentError(f"{payment_ref} was paid in {payment.currency}, not "
                                        f"{currency} (currency_mismatch)")
        if lines and sum(line.amount for line in lines) != amount:
            raise PermanentPaymentError(f"refund lines add up to "
                                        f"{sum(ln.amount for ln in lines)}, not {amount}")
        if self._charged_back(payment_ref):
            raise PermanentPaymentError(f"{payment_ref} has been charged back: no refund while "
                                        "its dispute is open or after it was lost "
                                        "(charge_disputed)")
        if amount <= 0:
            raise PermanentPaymentError(f"refund amount must be positive (got {amount})")
        left = self._refundable(payment_ref, payment)
        if amount > left:
            code = "charge_already_refunded" if left <= 0 else "amount_too_large"
            raise PermanentPaymentError(f"refund of {amount} exceeds what is left on "
                                        f"{payment_ref} ({left}) ({code})")
        payment.refunded += amount
        result = PaymentResult("refund", f"{payment_ref}-rf{len(payment.refunds) + 1}",
                               payment_ref, amount, payment.currency, key, lines)
        payment.refunds.append(result)
        self._book("refund", result.ref, payment_ref, -amount, payment.currency)
        return result

    def _void(self, payment_ref: str, key: str) -> PaymentResult:
        payment = self._payment(payment_ref, "authorised")
        if payment.state == "captured":
            raise PermanentPaymentError(f"{payment_ref} was captured: refund it instead")
        payment.state = "voided"
        return PaymentResult("void", f"{payment_ref}-void", payment_ref, payment.amount,
                             payment.currency, key)

    def _refundable(self, payment_ref: str, payment: _Payment) -> int:
        """What is left of the capture to refund."""
        return payment.captured - payment.refunded

    def _charged_back(self, payment_ref: str) -> bool:
        """A chargeback of the payment is open, lost or conceded (Stripe refuses its refunds)."""
        return any(d["payment_ref"] == payment_ref and d["status"] != "won"
                   for d in self.disputes.values())

    def _payment(self, payment_ref: str, adopt_as: str) -> _Payment:
        payment = self._payments.get(payment_ref) or self._adopt(payment_ref, adopt_as)
        if payment.state == "voided":
            raise PermanentPaymentError(f"{payment_ref} was voided")
        return payment

    def _adopt(self, payment_ref: str, state: str) -> _Payment:
        raise PermanentPaymentError(f"no payment {payment_ref}")

    def _dispute(self, dispute_ref: str) -> dict[str, object]:
        dispute = self.disputes.get(dispute_ref)
        if dispute is None:
            raise PermanentPaymentError(f"no dispute {dispute_ref}")
        return dispute

    def _decline_if_over(self, amount: int, currency: str) -> None:
        if self.decline_above is not None and amount > self.decline_above:
            raise PermanentPaymentError(f"card declined for {amount} {currency}")

    def _book(self, kind: str, ref: str, payment_ref: str, amount: int, currency: str) -> None:
        self.books.append(SettlementRecord(kind, ref, payment_ref, amount, currency, 0,
                                           self._now()))


class Booked(Protocol):
    """What the store holds about one payment, as the provider would know it: the money
    captured on it, each refund of it by its ledger key (`op:<idempotency key>` for ours, the
    provider's event for one made at its dashboard), and whether a chargeback of it is open,
    lost or conceded (an inquiry took nothing: it does not count)."""

    captured: int
    currency: str
    refunds: Mapping[str, int]
    charged_back: bool
    authorised: int  # the most the shop asked to capture or release of it


class AdoptingGateway(SimulatedGateway):
    """The simulated gateway for payments made elsewhere (they reached orderpilot by webhook or
    through the API, or another process captured them): the default when no provider is
    configured. A payment it did not open is adopted from the store's records (`book`, bound by
    the service context): captured for what the store says was captured on it, refunded for
    every refund of it booked there (by any process) and every refund this one made. So, like
    a real provider, it refuses a refund beyond what is left, and any refund of a payment
    charged back. A capture or a void of a payment it did not open is adopted as the store
    booked it too: authorised for what the shop asked to capture or release of it (the
    operation is recorded before the call), refused once captured (Stripe: a captured
    PaymentIntent can be neither captured again nor cancelled). A payment the store knows
    nothing of is refused, for any call (Stripe: `resource_missing`)."""

    def __init__(self, *, book: Callable[[str], Booked | None] | None = None,
                 **options: Any):
        super().__init__(**options)
        self.book = book

    def bind_book(self, book: Callable[[str], Booked | None]) -> None:
        """Read adopted payments from `book` (one store per gateway: the context that opened
        it binds it; its copies never do, service/context.py)."""
        self.book = book

    def _adopt(self, payment_ref: str, state: str) -> _Payment:
        """`state`: captured (to refund or dispute it), authorised (to capture or void it)."""
        booked = self._booked(payment_ref)
        if state == "captured" and (booked is None or booked.captured <= 0):
            raise PermanentPaymentError(f"no payment {payment_ref} captured (the simulated "
                                        "gateway adopts only what the store booked as "
                                        "captured)")
        if booked is not None and booked.captured > 0:
            payment = _Payment("", booked.captured, booked.currency, "captured",
                               captured=booked.captured)
        elif booked is not None and booked.authorised > 0:
            payment = _Payment("", booked.authorised, booked.currency, "authorised")
        else:  # before: adopted as authorised for any amount, in no currency
            raise PermanentPaymentError(f"no payment {payment_ref} authorised (the simulated "
                                        "gateway captures or releases only a payment the "
                                        "store booked a capture or release of) "
                                        "(resource_missing)")
        self._payments[payment_ref] = payment
        return payment

    def _refundable(self, payment_ref: str, payment: _Payment) -> int:
        """Read the store at every refund: another process may have captured or refunded."""
        booked = self._booked(payment_ref)
        if booked is None:
            return super()._refundable(payment_ref, payment)
        ours = {f"op:{r.idempotency_key}": r.amount for r in payment.refunds}
        return max(payment.captured, booked.captured) - sum({**booked.refunds, **ours}.values())

    def _charged_back(self, payment_ref: str) -> bool:
        booked = self._booked(payment_ref)
        return super()._charged_back(payment_ref) or bool(booked and booked.charged_back)

    def _booked(self, payment_ref: str) -> Booked | None:
        return self.book(payment_ref) if self.book is not None else None

    def _dispute(self, dispute_ref: str) -> dict[str, object]:
        """A dispute opened elsewhere (reported by webhook to another process) is adopted."""
        return self.disputes.setdefault(dispute_ref, {
            "payment_ref": "", "amount": 0, "reason": "", "status": "needs_response",
            "evidence": {}})
