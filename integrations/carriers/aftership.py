"""AfterShip: tracking webhooks in, trackings created at ship time, through the official
`aftership-tracking-sdk` (package `tracking`).

Webhook: JSON `{"event": "tracking_update", "event_id", "msg": <Tracking>, "ts"}` with header
`aftership-hmac-sha256` = base64 HMAC-SHA256 of the raw body with the webhook secret — the
SDK's own `Authenticator.hmac_signature` computes exactly that. `msg` is parsed with the SDK's
`Tracking` model; its `tag` (and for a few cases `subtag`) maps to one carrier status in
`TAGS` / `SUBTAGS`, or to none (recorded only).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import ValidationError
from tracking import Client, Configuration, CreateTrackingRequest, Tracking
from tracking.auth import Authenticator
from tracking.exceptions import ApiException, ErrorCodeEnum

from integrations.carriers.tracking_updates import (
    SubscribeFailed,
    TrackingUpdate,
    TransientSubscribeError,
)
from statemachine.errors import InvalidInput
from statemachine.tracking import CarrierStatus as St

SIGNATURE_HEADER = "aftership-hmac-sha256"
TAGS: dict[str, tuple[St | None, str]] = {
    "Pending": (None, "no information from the carrier yet"),
    "InfoReceived": (St.LABEL_CREATED, "the carrier has the shipment information"),
    "InTransit": (St.IN_TRANSIT, "on the way"),
    "OutForDelivery": (St.OUT_FOR_DELIVERY, "out for delivery"),
    "AttemptFail": (St.EXCEPTION, "delivery attempt failed"),
    "Delivered": (St.DELIVERED, "delivered"),
    "AvailableForPickup": (St.OUT_FOR_DELIVERY, "waiting at a pickup point"),
    "Exception": (St.EXCEPTION, "carrier exception"),
    "Expired": (None, "no update for a long time (our scan-silence timer already acts)"),
}
SUBTAGS: dict[str, tuple[St | None, str]] = {
    "InTransit_002": (St.PICKED_UP, "accepted by the carrier"),
    "Exception_010": (St.RETURNED, "on its way back to the sender"),
    "Exception_011": (St.RETURNED, "returned to the sender"),
    "Exception_012": (None, "order cancelled at the carrier"),
    "Exception_013": (St.LOST, "lost by the carrier"),
}


def signature(body: bytes, secret: str) -> str:
    """The header value AfterShip sends for this body (base64 HMAC-SHA256, via the SDK)."""
    return Authenticator.hmac_signature(body.decode("utf-8"), secret)


def signature_problem(body: bytes, given: str | None, secret: str | None) -> str | None:
    if not secret:
        return "no AfterShip webhook secret is configured " \
               "(ORDERPILOT_TRACKING__AFTERSHIP_WEBHOOK_SECRET)"
    if not given:
        return f"missing {SIGNATURE_HEADER} header"
    try:
        expected = signature(body, secret)
    except UnicodeDecodeError:
        return "body is not UTF-8"
    return None if hmac.compare_digest(expected, given.strip()) else "signature does not match"


def parse_webhook(body: bytes) -> TrackingUpdate:
    """The tracking's newest state; InvalidInput names what is missing."""
    try:
        payload = json.loads(body)
        tracking = Tracking.model_validate(payload["msg"])
    except (ValueError, KeyError, TypeError, ValidationError) as error:
        raise InvalidInput({"msg": f"expected an AfterShip tracking webhook with msg "
                                   f"({type(error).__name__})"}) from None
    if not tracking.tracking_number or not tracking.slug or tracking.tag is None:
        raise InvalidInput({"msg": "tracking_number, slug and tag are required"})
    tag, subtag = tracking.tag.value, tracking.subtag or ""
    status, label = SUBTAGS.get(subtag) or TAGS.get(tag, (None, f"unknown tag {tag}"))
    last = (tracking.checkpoints or [None])[-1]
    event = str(payload.get("event_id") or "") or hashlib.sha256(body).hexdigest()[:32]
    return TrackingUpdate(
        provider="aftership", provider_carrier=tracking.slug,
        tracking_no=tracking.tracking_number, code=f"{tag}/{subtag}" if subtag else tag,
        status=status, label=label, event_id=f"aftership:{event}"[:128],
        occurred_at=_when(last.checkpoint_time if last else None),
        location=(last.location or last.city) if last else None,
        detail=(last.message or tracking.subtag_message) if last else tracking.subtag_message)


def _when(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(str(text))
        value.astimezone(UTC)  # stored in UTC: a time UTC cannot hold is no time either
    except (ValueError, OverflowError):
        return None
    return value if value.tzinfo else None


@dataclass(frozen=True, slots=True)
class AfterShipSubscriber:
    """Creates an AfterShip tracking per waybill; one that already exists is fine."""

    api_key: str
    domain: str = "https://api.aftership.com"
    timeout_ms: int = 10_000

    def subscribe(self, company: str, tracking_no: str, phone: str | None = None) -> str:
        client = Client(Configuration(domain=self.domain, api_key=self.api_key, max_retry=0,
                                      timeout=self.timeout_ms))
        request = CreateTrackingRequest(tracking_number=tracking_no, slug=company)
        try:
            created = client.tracking.create_tracking(request)
        except httpx.HTTPError as error:  # the SDK passes connection errors through
            raise TransientSubscribeError(f"aftership: {type(error).__name__}: {error}") \
                from None
        except ApiException as error:
            if error.code == ErrorCodeEnum.TRACKING_ALREADY_EXIST:
                return f"aftership already tracks {company} {tracking_no}"
            transient = error.status_code is None or error.status_code >= 500 or \
                error.status_code == 429
            kind = TransientSubscribeError if transient else SubscribeFailed
            raise kind(f"aftership: {error}") from None
        made = created.data.id if created.data else "?"
        return f"aftership tracking {made} for {company} {tracking_no}"
