"""Stripe webhooks: verified with the SDK's own signature check, translated to MoneyEvents.

`Stripe-Signature` is checked by `stripe.Webhook.construct_event` (HMAC-SHA256 with the
endpoint's `whsec_…` secret, constant-time compare, timestamp tolerance): a forged or stale
delivery raises WebhookRefused and nothing is applied. A replayed delivery passes the check
(same signature, still fresh) and is answered from the log by its event id (ingest/once.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import stripe

from statemachine.ports import MoneyEvent, WebhookRefused

KINDS = {"payment_intent.amount_capturable_updated": "authorised",
         "payment_intent.processing": "processing",  # a slow method (bank debit) started
         "payment_intent.succeeded": "captured",
         "payment_intent.payment_failed": "failed",
         "charge.refunded": "refunded",
         "charge.dispute.created": "dispute_opened",
         # an inquiry Stripe turned into a chargeback (status warning_* → needs_response), a
         # response under review, a new evidence due date: the dispute is now this
         "charge.dispute.updated": "dispute_updated",
         "charge.dispute.closed": "dispute_closed",
         # Stripe moved a chargeback's money: withdrawn when the dispute opened as one or an
         # inquiry became one, reinstated when it was won (or, for a payment partly refunded,
         # the refunded part). Each carries the whole Dispute, so each is read like the others —
         # the dispute is now this — and books nothing of its own: our books move the money
         # with the dispute's kind and state (settlement_store: out when it became a chargeback,
         # back when won). Told already, it changes nothing; the one event to arrive, it opens,
         # escalates or wins the dispute as the lost created / updated / closed would have.
         "charge.dispute.funds_withdrawn": "dispute_funds_withdrawn",
         "charge.dispute.funds_reinstated": "dispute_funds_reinstated"}
DISPUTES = ("dispute_opened", "dispute_updated", "dispute_closed", "dispute_funds_withdrawn",
            "dispute_funds_reinstated")


def kind_of(status: Any) -> str:
    """Stripe has no dispute type: an inquiry (or early fraud warning: the bank asks, no money
    is withdrawn) is a dispute whose status is one of the `warning_*` ones."""
    return "inquiry" if str(status).startswith("warning_") else "chargeback"


def read_event(payload: bytes, signature: str | None, secret: str,
               tolerance_seconds: int) -> MoneyEvent | None:
    """The verified event as a MoneyEvent; None for an event type orderpilot does not use."""
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret, tolerance_seconds)
    except stripe.SignatureVerificationError as error:
        raise WebhookRefused(f"stripe signature refused: {error.user_message or error}") \
            from None
    except ValueError:
        raise WebhookRefused("body is not a Stripe event") from None
    kind = KINDS.get(event.type)
    if kind is None:
        return None
    return _translate(kind, event.id, event.created, event.data.object.to_dict())


def _translate(kind: str, event_id: str, created: int, obj: dict[str, Any]) -> MoneyEvent:
    base = {"provider": "stripe", "event_id": event_id, "kind": kind,
            "currency": str(obj["currency"]).upper(),
            "occurred_at": datetime.fromtimestamp(created, UTC),
            "order_id": (obj.get("metadata") or {}).get("order_id")}
    if kind in DISPUTES:  # its status is the outcome: dispute_steps.STRIPE says the step
        due = (obj.get("evidence_details") or {}).get("due_by")
        status = str(obj.get("status"))
        return MoneyEvent(**base, payment_ref=obj.get("payment_intent") or obj["charge"],
                          amount=int(obj["amount"]), dispute_ref=obj["id"],
                          reason=obj.get("reason"), dispute_kind=kind_of(status),
                          outcome=status,
                          due_by=datetime.fromtimestamp(due, UTC) if due else None)
    if kind == "refunded":
        return MoneyEvent(**base, payment_ref=obj.get("payment_intent") or obj["id"],
                          amount=int(obj["amount_refunded"]))
    amount = {"authorised": obj.get("amount_capturable"), "captured":
              obj.get("amount_received")}.get(kind) or obj["amount"]
    failure = (obj.get("last_payment_error") or {}).get("message")
    method = (obj.get("payment_method_types") or [None])[0]
    return MoneyEvent(**base, payment_ref=obj["id"], amount=int(amount),
                      outcome=failure if kind == "failed" else None,
                      reason=method if kind == "processing" else None)
