"""Stripe webhook deliveries for tests: documented example bodies (tests/fixtures/stripe),
filled in, and signed the way Stripe signs them (`Stripe-Signature: t=<unix>,v1=<hex>`,
HMAC-SHA256 over `t.body` with the endpoint secret), computed here with hmac, not the SDK."""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import time
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent.parent / "fixtures" / "stripe"
_ids = itertools.count(1)


@cache
def _example(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def example(name: str, **fields: Any) -> dict[str, Any]:
    body = copy.deepcopy(_example(name))
    body.update(fields)
    return body


def event(kind: str, obj: dict[str, Any], *, event_id: str | None = None) -> bytes:
    body = example("event", id=event_id or f"evt_test{next(_ids):010d}", type=kind,
                   created=int(time.time()), data={"object": obj})
    return json.dumps(body).encode()


def signature(body: bytes, secret: str, at: float | None = None) -> str:
    stamp = int(at if at is not None else time.time())
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def intent(pi: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The documented payment_intent example, carrying the fake's live intent."""
    keys = ("id", "amount", "amount_capturable", "amount_received", "currency", "status",
            "metadata", "latest_charge", "client_secret", "capture_method")
    return example("payment_intent", **{k: pi[k] for k in keys if k in pi}, **fields)


def charge(charge_id: str, pi: dict[str, Any], refunded: int) -> dict[str, Any]:
    return example("charge", id=charge_id, amount=pi["amount_received"],
                   amount_captured=pi["amount_received"], amount_refunded=refunded,
                   refunded=refunded == pi["amount_received"], payment_intent=pi["id"],
                   currency=pi["currency"], metadata=pi["metadata"])


def dispute(dp: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    keys = ("id", "amount", "charge", "payment_intent", "currency", "reason",
            "evidence_details")
    return example("dispute", **{k: dp[k] for k in keys}, status=status or dp["status"])
