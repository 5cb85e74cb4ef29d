"""Stripe behind the payment ports, with the official `stripe` SDK.

PaymentIntents with manual capture: `checkout` creates the intent (the shop's Stripe.js
confirms it with the buyer's card), `capture` takes the money, `void` cancels an uncaptured
intent, `refund` refunds all or part of a capture. Disputes get their evidence and are
submitted (`submit_evidence`) or conceded (`accept`); `settlement` reads the day's balance
transactions. Every call carries our idempotency key (`Idempotency-Key` header); the SDK retries
network errors, 409 and 5xx itself with that same key, so a retried refund is applied once.
Whatever is left after its retries becomes `TransientPaymentError`; every other Stripe error is
permanent. The API key never appears in a message or a log line.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import requests
import stripe

from statemachine.ports import (
    Checkout,
    PaymentResult,
    PermanentPaymentError,
    RefundLine,
    SettlementRecord,
    TransientPaymentError,
)

KIND_OF_CATEGORY = {"charge": "charge", "refund": "refund", "dispute": "dispute",
                    "dispute_reversal": "dispute", "fee": "fee", "partial_capture_reversal":
                    "charge", "refund_failure": "refund"}


class StripeGateway:
    provider = "stripe"

    def __init__(self, api_key: str, *, api_base: str = stripe.DEFAULT_API_BASE,
                 max_retries: int = 2, timeout_seconds: float = 20.0):
        # one session for every thread, so close() closes them all: the SDK's default is a
        # session per thread, and close() closed only the calling thread's (the console's
        # jobs and the webhook app call from worker threads; theirs stayed open)
        self._session = requests.Session()
        self._http = stripe.RequestsClient(timeout=timeout_seconds, session=self._session)
        self._client = stripe.StripeClient(
            api_key, base_addresses={"api": api_base}, max_network_retries=max_retries,
            http_client=self._http)

    def close(self) -> None:
        """Close the pooled connections, every thread's (the process is done with Stripe)."""
        self._session.close()

    # --- PaymentGateway -----------------------------------------------------------------------

    def checkout(self, order_id: str, amount: int, currency: str, *,
                 idempotency_key: str) -> Checkout:
        intent = self._call(self._client.v1.payment_intents.create, params={
            "amount": amount, "currency": currency.lower(), "capture_method": "manual",
            "metadata": {"order_id": order_id},
            "automatic_payment_methods": {"enabled": True}}, key=idempotency_key)
        return Checkout(self.provider, intent.id, intent.amount, intent.currency.upper(),
                        idempotency_key, client_secret=intent.client_secret)

    def capture(self, payment_ref: str, amount: int, currency: str, *,
                idempotency_key: str) -> PaymentResult:
        intent = self._call(self._client.v1.payment_intents.capture, payment_ref,
                            params={"amount_to_capture": amount}, key=idempotency_key)
        if intent.status != "succeeded":
            raise PermanentPaymentError(f"capture of {payment_ref} left it {intent.status}")
        return PaymentResult("capture", intent.latest_charge or intent.id, intent.id,
                             intent.amount_received, intent.currency.upper(), idempotency_key)

    def refund(self, payment_ref: str, amount: int, *, idempotency_key: str,
               lines: tuple[RefundLine, ...] = (), currency: str | None = None
               ) -> PaymentResult:
        """Stripe refunds a PaymentIntent in the intent's own currency: `currency` (the
        payment's, as its webhook reported it) has nothing to add to the call."""
        if lines and sum(line.amount for line in lines) != amount:
            raise PermanentPaymentError(f"refund lines add up to "
                                        f"{sum(ln.amount for ln in lines)}, not {amount}")
        metadata = {"orderpilot_key": idempotency_key}
        if lines:  # Stripe refunds have no lines: keep them where finance can see them
            metadata["lines"] = ",".join(f"{ln.line_no}x{ln.quantity}" for ln in lines)
        refund = self._call(self._client.v1.refunds.create, params={
            "payment_intent": payment_ref, "amount": amount, "metadata": metadata},
            key=idempotency_key)
        if refund.status in ("failed", "canceled"):
            raise PermanentPaymentError(f"refund {refund.id} {refund.status}")
        status = "succeeded" if refund.status == "succeeded" else "pending"
        return PaymentResult("refund", refund.id, payment_ref, refund.amount,
                             refund.currency.upper(), idempotency_key, lines, status)

    def void(self, payment_ref: str, *, idempotency_key: str) -> PaymentResult:
        intent = self._call(self._client.v1.payment_intents.cancel, payment_ref,
                            params={"cancellation_reason": "abandoned"}, key=idempotency_key)
        return PaymentResult("void", intent.id, intent.id, intent.amount,
                             intent.currency.upper(), idempotency_key)

    # --- DisputeDesk --------------------------------------------------------------------------

    def submit_evidence(self, dispute_ref: str, evidence: Mapping[str, str], *,
                        idempotency_key: str) -> str:
        dispute = self._call(self._client.v1.disputes.update, dispute_ref,
                             params={"evidence": dict(evidence), "submit": True},
                             key=idempotency_key)
        return str(dispute.status)

    def accept(self, dispute_ref: str, *, idempotency_key: str) -> str:
        dispute = self._call(self._client.v1.disputes.close, dispute_ref, key=idempotency_key)
        return str(dispute.status)

    # --- SettlementSource ---------------------------------------------------------------------

    def settlement(self, start: datetime, end: datetime) -> list[SettlementRecord]:
        page = self._call(self._client.v1.balance_transactions.list, params={
            "created": {"gte": int(start.timestamp()), "lt": int(end.timestamp())},
            "limit": 100, "expand": ["data.source"]})
        try:
            return [record for txn in page.auto_paging_iter()
                    if (record := _record(txn)) is not None]
        except stripe.StripeError as error:
            raise _classified(error) from None

    # --- internals ----------------------------------------------------------------------------

    def _call(self, method: Any, *args: Any, params: dict[str, Any] | None = None,
              key: str | None = None) -> Any:
        options = {"idempotency_key": key} if key else None
        try:
            return method(*args, params=params, options=options)
        except stripe.StripeError as error:
            raise _classified(error) from None


def _classified(error: stripe.StripeError) -> Exception:
    """Stripe's error → ours: what a retry with the same key may cure is transient."""
    status = error.http_status or 0
    text = f"stripe: {error.user_message or error.__class__.__name__}"
    if error.code:
        text += f" ({error.code})"
    if isinstance(error, stripe.APIConnectionError | stripe.RateLimitError) \
            or status in (409, 429) or status >= 500:
        return TransientPaymentError(text)
    if isinstance(error, stripe.AuthenticationError):
        return PermanentPaymentError("stripe refused the API key: check "
                                     "ORDERPILOT_PAYMENTS_STRIPE_API_KEY")
    return PermanentPaymentError(text)


def _record(txn: Any) -> SettlementRecord | None:
    return record_of(txn.to_dict())


def record_of(data: Mapping[str, Any]) -> SettlementRecord | None:
    """A balance transaction (as the API lists it) → our record; None for what is not a
    sale's movement (payouts, transfers …)."""
    kind = KIND_OF_CATEGORY.get(data.get("reporting_category") or data["type"])
    if kind is None:
        return None
    source = data.get("source")
    expanded = isinstance(source, dict)
    ref = source["id"] if expanded else (source or data["id"])
    payment = source.get("payment_intent") if expanded else None
    return SettlementRecord(kind, ref, payment, int(data["amount"]), data["currency"].upper(),
                            int(data["fee"]), datetime.fromtimestamp(data["created"], UTC))
