"""A local stand-in for api.stripe.com: the endpoints orderpilot calls, answered as Stripe's API
reference documents them (objects, statuses, error bodies, idempotent replays).

Idempotency as Stripe documents it: the first result for a key is saved and returned for every
repeat with the same parameters (header `Idempotent-Replayed: true`); the same key with other
parameters is a 400 `idempotency_error`. Requests the fake refuses before acting (scripted 503s)
save nothing, so a retry acts.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from tests.fakes.http import Answer, FakeProvider

JSON = {"content-type": "application/json"}
CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation",
              "requires_action")


def unflatten(fields: dict[str, str]) -> dict[str, Any]:
    """`metadata[order_id]=o-1` → {"metadata": {"order_id": "o-1"}} (lists stay dicts)."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        parts = key.replace("]", "").split("[")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


class FakeStripe(FakeProvider):
    def __init__(self, fee_rate: float = 0.034, fee_fixed: int = 0):
        super().__init__()
        self.fee_rate, self.fee_fixed = fee_rate, fee_fixed
        self.intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.disputes: dict[str, dict[str, Any]] = {}
        self.balance: list[dict[str, Any]] = []
        self._keys: dict[str, tuple[str, str, dict[str, str], Answer]] = {}
        self._ids = itertools.count(1)
        self.now = lambda: int(time.time())

    # --- what the buyer and the card networks do (test controls) ---------------------------

    def authorise(self, intent_id: str) -> dict[str, Any]:
        """The buyer confirms the payment in Stripe.js: the intent awaits capture."""
        with self._lock:
            intent = self.intents[intent_id]
            if intent["status"] != "requires_payment_method":
                raise ValueError(f"{intent_id} is {intent['status']}: cannot be confirmed")
            intent.update(status="requires_capture", amount_capturable=intent["amount"])
            return dict(intent)

    def open_dispute(self, intent_id: str, amount: int | None = None,
                     reason: str = "fraudulent", due_in_days: int = 7) -> dict[str, Any]:
        """The buyer's bank disputes the charge: Stripe debits the amount and a fee."""
        with self._lock:
            intent = self.intents[intent_id]
            dispute = {"id": self._id("dp"), "object": "dispute", "amount": amount or
                       intent["amount_received"], "currency": intent["currency"],
                       "charge": intent["latest_charge"], "payment_intent": intent_id,
                       "reason": reason, "status": "needs_response", "created": self.now(),
                       "evidence": {}, "is_charge_refundable": False, "livemode": False,
                       "evidence_details": {"due_by": self.now() + due_in_days * 86400,
                                            "has_evidence": False, "submission_count": 0},
                       "metadata": {}}
            self.disputes[dispute["id"]] = dispute
            self.charges[dispute["charge"]]["disputed"] = True
            self._book("adjustment", "dispute", -dispute["amount"], dispute["currency"],
                       dispute["id"], fee=1500)
            return dict(dispute)

    def open_inquiry(self, intent_id: str, reason: str = "fraudulent",
                     due_in_days: int = 7) -> dict[str, Any]:
        """The buyer's bank asks before charging back (an inquiry, `warning_needs_response`):
        Stripe withdraws nothing, books no balance transaction."""
        with self._lock:
            intent = self.intents[intent_id]
            dispute = {"id": self._id("dp"), "object": "dispute",
                       "amount": intent["amount_received"], "currency": intent["currency"],
                       "charge": intent["latest_charge"], "payment_intent": intent_id,
                       "reason": reason, "status": "warning_needs_response",
                       "created": self.now(), "evidence": {}, "is_charge_refundable": True,
                       "livemode": False, "metadata": {},
                       "evidence_details": {"due_by": self.now() + due_in_days * 86400,
                                            "has_evidence": False, "submission_count": 0}}
            self.disputes[dispute["id"]] = dispute
            return dict(dispute)

    def escalate(self, dispute_id: str, amount: int | None = None, reason: str | None = None,
                 due_in_days: int = 21) -> dict[str, Any]:
        """The bank turns the inquiry into a chargeback (same dispute, `needs_response`, its own
        due date): Stripe debits the amount and a fee now."""
        with self._lock:
            dispute = self.disputes[dispute_id]
            dispute.update(status="needs_response", amount=amount or dispute["amount"],
                           reason=reason or dispute["reason"], is_charge_refundable=False)
            dispute["evidence_details"] = {**dispute["evidence_details"],
                                           "due_by": self.now() + due_in_days * 86400}
            self.charges[dispute["charge"]]["disputed"] = True
            self._book("adjustment", "dispute", -dispute["amount"], dispute["currency"],
                       dispute_id, fee=1500)
            return dict(dispute)

    def close_dispute(self, dispute_id: str, status: str) -> dict[str, Any]:
        """The bank decides (won / lost); a won dispute gives the money back."""
        with self._lock:
            dispute = self.disputes[dispute_id]
            dispute["status"] = status
            if status == "won":
                self._book("adjustment", "dispute_reversal", dispute["amount"],
                           dispute["currency"], dispute_id, fee=-1500)
            return dict(dispute)

    # --- the API ------------------------------------------------------------------------------

    def handle(self, method: str, path: str, fields: dict[str, str],
               headers: dict[str, str]) -> Answer:
        if not headers.get("authorization", "").startswith("Bearer sk_"):
            return _error(401, "invalid_request_error", "Invalid API Key provided")
        key = headers.get("idempotency-key")
        if method == "POST" and key:
            saved = self._keys.get(key)
            if saved is not None:
                if saved[:3] != (method, path, fields):
                    return _error(400, "idempotency_error", "Keys for idempotent requests "
                                  "can only be used with the same parameters they were first "
                                  "used with.")
                status, extra, body = saved[3]
                return status, {**extra, "idempotent-replayed": "true"}, body
        answer = self._route(method, path.rstrip("/").split("/")[2:], unflatten(fields))
        if method == "POST" and key:
            self._keys[key] = (method, path, fields, answer)
        return answer

    def _route(self, method: str, parts: list[str], params: dict[str, Any]) -> Answer:
        match method, parts:
            case "POST", ["payment_intents"]:
                return self._create_intent(params)
            case "GET", ["payment_intents", intent_id]:
                return self._found(self.intents, intent_id)
            case "POST", ["payment_intents", intent_id, "capture"]:
                return self._capture(intent_id, params)
            case "POST", ["payment_intents", intent_id, "cancel"]:
                return self._cancel(intent_id, params)
            case "POST", ["refunds"]:
                return self._refund(params)
            case "POST", ["disputes", dispute_id]:
                return self._update_dispute(dispute_id, params)
            case "POST", ["disputes", dispute_id, "close"]:
                return self._close(dispute_id)
            case "GET", ["balance_transactions"]:
                return self._balance(params)
        return _error(404, "invalid_request_error", f"Unrecognized request URL ({method})")

    def _create_intent(self, p: dict[str, Any]) -> Answer:
        amount = int(p.get("amount", 0))
        if amount < 1:
            return _error(400, "invalid_request_error", "Invalid integer", param="amount")
        intent_id = self._id("pi")
        intent = {"id": intent_id, "object": "payment_intent", "amount": amount,
                  "amount_capturable": 0, "amount_received": 0,
                  "capture_method": p.get("capture_method", "automatic_async"),
                  "client_secret": f"{intent_id}_secret_{self._id('cs')}",
                  "currency": p["currency"], "status": "requires_payment_method",
                  "metadata": p.get("metadata", {}), "latest_charge": None,
                  "created": self.now(), "livemode": False, "cancellation_reason": None}
        self.intents[intent_id] = intent
        return _ok(intent)

    def _capture(self, intent_id: str, p: dict[str, Any]) -> Answer:
        intent = self.intents.get(intent_id)
        if intent is None:
            return _missing("payment_intent", intent_id)
        if intent["status"] != "requires_capture":
            return _unexpected_state(intent, "capture")
        amount = int(p.get("amount_to_capture", intent["amount_capturable"]))
        if amount > intent["amount_capturable"]:
            return _error(400, "invalid_request_error", "amount_to_capture exceeds the "
                          "capturable amount", param="amount_to_capture")
        charge_id = self._id("ch")
        self.charges[charge_id] = {"id": charge_id, "object": "charge", "amount": amount,
                                   "amount_refunded": 0, "payment_intent": intent_id,
                                   "currency": intent["currency"], "disputed": False}
        intent.update(status="succeeded", amount_received=amount, amount_capturable=0,
                      latest_charge=charge_id)
        fee = round(amount * self.fee_rate) + self.fee_fixed
        self._book("charge", "charge", amount, intent["currency"], charge_id, fee=fee)
        return _ok(intent)

    def _cancel(self, intent_id: str, p: dict[str, Any]) -> Answer:
        intent = self.intents.get(intent_id)
        if intent is None:
            return _missing("payment_intent", intent_id)
        if intent["status"] not in CANCELABLE:
            return _unexpected_state(intent, "cancel")
        intent.update(status="canceled", amount_capturable=0,
                      cancellation_reason=p.get("cancellation_reason"))
        return _ok(intent)

    def _refund(self, p: dict[str, Any]) -> Answer:
        intent = self.intents.get(p.get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            return _error(400, "invalid_request_error", "This PaymentIntent does not have a "
                          "successful charge to refund.", code="charge_not_refundable")
        charge = self.charges[intent["latest_charge"]]
        if charge["disputed"]:
            return _error(400, "invalid_request_error", f"Charge {charge['id']} has been "
                          "charged back; cannot issue a refund.", code="charge_disputed")
        amount = int(p.get("amount", charge["amount"] - charge["amount_refunded"]))
        if amount > charge["amount"] - charge["amount_refunded"]:
            return _error(400, "invalid_request_error", f"Refund amount ({amount}) is greater "
                          "than unrefunded amount on charge", code="amount_too_large")
        charge["amount_refunded"] += amount
        refund = {"id": self._id("re"), "object": "refund", "amount": amount,
                  "charge": charge["id"], "payment_intent": intent["id"],
                  "currency": intent["currency"], "status": "succeeded",
                  "metadata": p.get("metadata", {}), "created": self.now()}
        self.refunds[refund["id"]] = refund
        self._book("refund", "refund", -amount, intent["currency"], refund["id"], fee=0)
        return _ok(refund)

    def _update_dispute(self, dispute_id: str, p: dict[str, Any]) -> Answer:
        dispute = self.disputes.get(dispute_id)
        if dispute is None:
            return _missing("dispute", dispute_id)
        if dispute["status"] not in ("needs_response", "warning_needs_response"):
            return _error(400, "invalid_request_error", f"This dispute is already "
                          f"{dispute['status']}; evidence can no longer be updated.")
        dispute["evidence"].update(p.get("evidence", {}))
        if p.get("submit") == "true":
            dispute["status"] = "under_review"
            dispute["evidence_details"]["submission_count"] += 1
            dispute["evidence_details"]["has_evidence"] = True
        return _ok(dispute)

    def _close(self, dispute_id: str) -> Answer:
        dispute = self.disputes.get(dispute_id)
        if dispute is None:
            return _missing("dispute", dispute_id)
        if dispute["status"] not in ("needs_response", "warning_needs_response"):
            return _error(400, "invalid_request_error", f"dispute is {dispute['status']}")
        dispute["status"] = "lost"
        return _ok(dispute)

    def _balance(self, p: dict[str, Any]) -> Answer:
        created = p.get("created", {})
        gte, lt = int(created.get("gte", 0)), int(created.get("lt", 2**62))
        rows = [t for t in self.balance if gte <= t["created"] < lt]
        rows.sort(key=lambda t: (-t["created"], t["id"]))  # newest first, as Stripe lists
        after = p.get("starting_after")
        if after:
            rows = rows[[t["id"] for t in rows].index(after) + 1:]
        limit = int(p.get("limit", 10))
        page = [self._expanded(t, p) for t in rows[:limit]]
        return _ok({"object": "list", "url": "/v1/balance_transactions", "data": page,
                    "has_more": len(rows) > limit})

    # --- helpers ------------------------------------------------------------------------------

    def _expanded(self, txn: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
        if "data.source" not in p.get("expand", {}).values():
            return txn
        source = {**self.charges, **self.refunds, **self.disputes}.get(txn["source"])
        return {**txn, "source": source} if source else txn

    def _book(self, txn_type: str, category: str, amount: int, currency: str, source: str,
              fee: int) -> None:
        self.balance.append({"id": self._id("txn"), "object": "balance_transaction",
                             "amount": amount, "currency": currency, "fee": fee,
                             "net": amount - fee, "type": txn_type,
                             "reporting_category": category, "source": source,
                             "created": self.now(), "status": "pending"})

    def _found(self, table: dict[str, dict[str, Any]], key: str) -> Answer:
        return _ok(table[key]) if key in table else _missing("object", key)

    def _id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):08d}"


def _ok(body: dict[str, Any]) -> Answer:
    return 200, dict(JSON), json.dumps(body).encode()


def _error(status: int, kind: str, message: str, *, code: str | None = None,
           param: str | None = None) -> Answer:
    error = {"type": kind, "message": message}
    error |= {k: v for k, v in (("code", code), ("param", param)) if v}
    return status, dict(JSON), json.dumps({"error": error}).encode()


def _missing(what: str, key: str) -> Answer:
    return _error(404, "invalid_request_error", f"No such {what}: '{key}'",
                  code="resource_missing")


def _unexpected_state(intent: dict[str, Any], action: str) -> Answer:
    return _error(400, "invalid_request_error", f"This PaymentIntent could not be {action}d "
                  f"because it has a status of {intent['status']}.",
                  code="payment_intent_unexpected_state")
