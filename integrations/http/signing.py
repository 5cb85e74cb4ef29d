"""HMAC-SHA256 request signatures: `sha256=<hex>` over `timestamp + "." + raw body`.

The timestamp (unix seconds) must be within the replay window of the receiver's clock; the
comparison is constant-time. Senders and tests use `signed_headers`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime

UNIX_SECONDS = re.compile(r"[0-9]{1,12}")  # ASCII digits: str.isdigit() accepts "¹" too
TIMESTAMP_HEADER = "x-orderpilot-timestamp"
SIGNATURE_HEADER = "x-orderpilot-signature"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: str, body: bytes, now: datetime) -> dict[str, str]:
    """The two headers a sender adds to a request with this body, signed at `now`."""
    timestamp = str(int(now.timestamp()))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body)}


def signature_problem(secret: str | None, timestamp: str | None, signature: str | None,
                      body: bytes, now: datetime, window_seconds: int) -> str | None:
    """None when the request is authentic and fresh, otherwise why it is refused."""
    if not secret:
        return "no shared secret is configured for this source"
    if not timestamp or not signature:
        return f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header"
    if not UNIX_SECONDS.fullmatch(timestamp):
        return f"{TIMESTAMP_HEADER} must be unix seconds"
    if abs(now.timestamp() - int(timestamp)) > window_seconds:
        return f"timestamp outside the {window_seconds} s replay window"
    if not hmac.compare_digest(sign(secret, timestamp, body).encode(),
                               signature.encode("utf-8", "replace")):
        return "signature does not match"
    return None
