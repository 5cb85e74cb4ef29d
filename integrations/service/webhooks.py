"""Outbound webhook subscriptions: add, list, pause, remove; delivery logs; re-send dead letters.

A subscription names a URL, the events it wants (`orderpilot.order.*`, `orderpilot.*`, or exact
names such as `orderpilot.shipment.delivered`) and a Standard Webhooks secret (`whsec_…`,
generated unless given). It receives the events that happen after it was created.

Each change is a command run under the one retry policy (service/contention.py), from the
Python API, the CLI and the ops HTTP routes alike: a subscription's bounded wait for the
outbox's writers (db/webhooks.py, PostgreSQL's lock timeout) or a collision with the relay
is run again, and only a store busy past the budget answers `Contention` (503, Retry-After).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from datetime import datetime
from typing import Any

from pydantic import AnyHttpUrl, Field, field_validator

from integrations.db.webhooks import WebhookStore
from integrations.service.contention import retrying
from integrations.service.context import Context
from integrations.service.inputs import Edge, check_actor, parse
from integrations.service.views import View
from statemachine import ids, limits
from statemachine.errors import InvalidInput, NotFound

PATTERN = r"^(\*|orderpilot\.(\*|(order|shipment|case|claim)\.(\*|[a-z_]{1,40})))$"
STATUSES = ("pending", "delivered", "dead")


class Subscribe(Edge):
    url: AnyHttpUrl
    events: list[str] = Field(default_factory=lambda: ["orderpilot.*"], min_length=1,
                              max_length=50)
    description: str | None = Field(None, max_length=200)
    secret: str | None = Field(None, description="whsec_ + base64 of 24–64 bytes; generated "
                                                 "when absent")

    @field_validator("events")
    @classmethod
    def _filters(cls, events: list[str]) -> list[str]:
        bad = [e for e in events if not re.fullmatch(PATTERN, e)]
        if bad:
            raise ValueError(f"filters look like orderpilot.order.*, orderpilot.*, "
                             f"orderpilot.shipment.delivered (got {', '.join(bad)})")
        return list(dict.fromkeys(events))

    @field_validator("url")
    @classmethod
    def _fits(cls, url: AnyHttpUrl) -> AnyHttpUrl:
        """Measured as it is kept: percent-encoded (one Chinese character is nine)."""
        if len(str(url)) > limits.URL:
            raise ValueError(f"expected a URL of at most {limits.URL} characters once "
                             f"percent-encoded (got {len(str(url))})")
        return url

    @field_validator("secret")
    @classmethod
    def _secret(cls, secret: str | None) -> str | None:
        if secret is not None and not 24 <= len(_secret_bytes(secret)) <= 64:
            raise ValueError("expected whsec_ followed by base64 of 24–64 random bytes")
        return secret


class SubscriptionView(View):
    id: str
    kind: str
    url: str
    events: list[str]
    description: str | None
    active: bool
    created_by: str
    created_at: datetime
    deliveries: dict[str, int]


class NewSubscription(SubscriptionView):
    secret: str  # shown once, at creation


class DeliveryView(View):
    id: str
    subscription_id: str
    event: str
    order_id: str
    event_id: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None


@retrying("adding a subscription")
def subscribe(ctx: Context, request: dict[str, Any], actor: str) -> NewSubscription:
    """Add a subscription; returns it with its secret (shown once: it is never listed)."""
    checked = parse(Subscribe, request)
    actor = check_actor(actor)
    secret = checked.secret or new_secret()
    with ctx.tx() as tx:
        store = WebhookStore(tx.store.sql)
        number = store.add_subscription({
            "kind": "webhook", "url": str(checked.url), "secret": secret,
            "events": checked.events, "description": checked.description, "active": True,
            "created_by": actor, "at": ctx.clock.now()})
        view = _view(store, store.subscription(number))
        return NewSubscription(**view.model_dump(), secret=secret)


def subscriptions(ctx: Context, kind: str | None = "webhook") -> list[SubscriptionView]:
    with ctx.tx(readonly=True) as tx:
        store = WebhookStore(tx.store.sql)
        counts = store.counts()
        return [_view(store, s, counts) for s in store.subscriptions(kind)]


@retrying("pausing or resuming a subscription")
def set_active(ctx: Context, subscription_id: str, active: bool) -> SubscriptionView:
    """Pause (events are not handed to it meanwhile) or resume a subscription."""
    number = ids.SUBSCRIPTION.parse(subscription_id)
    with ctx.tx() as tx:
        store = WebhookStore(tx.store.sql)
        if not store.set_active(number, active, ctx.clock.now()):
            raise NotFound("subscription", subscription_id)
        return _view(store, store.subscription(number))


@retrying("removing a subscription")
def remove(ctx: Context, subscription_id: str) -> None:
    """Delete a subscription and its delivery log."""
    with ctx.tx() as tx:
        if not WebhookStore(tx.store.sql).remove(ids.SUBSCRIPTION.parse(subscription_id)):
            raise NotFound("subscription", subscription_id)


def deliveries(ctx: Context, subscription_id: str | None = None, status: str | None = None,
               order_id: int | None = None, limit: int = 100) -> list[DeliveryView]:
    """The delivery log, newest `limit` entries in order, optionally by status or order."""
    if status is not None and status not in STATUSES:
        raise InvalidInput({"status": f"expected one of {', '.join(STATUSES)} (got {status!r})"})
    number = ids.SUBSCRIPTION.parse(subscription_id) if subscription_id else None
    with ctx.tx(readonly=True) as tx:
        store = WebhookStore(tx.store.sql)
        if number is not None and store.subscription(number) is None:
            raise NotFound("subscription", subscription_id)  # as pause / resume say: not "none"
        rows = store.deliveries(number, status, order_id, limit)
    return [_delivery(r) for r in rows]


@retrying("queueing dead letters again")
def resend(ctx: Context, delivery_ids: list[str] | None = None,
           subscription_id: str | None = None) -> int:
    """Queue dead-lettered deliveries again (given ones, or all of a subscription, or all)."""
    numbers = [ids.DELIVERY.parse(d) for d in delivery_ids or []]
    sub = ids.SUBSCRIPTION.parse(subscription_id) if subscription_id else None
    with ctx.tx() as tx:
        return WebhookStore(tx.store.sql).resend(ctx.clock.now(), numbers, sub)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _secret_bytes(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix("whsec_") + "==", validate=False)
    except (binascii.Error, ValueError):
        return b""


def _view(store: WebhookStore, row: dict[str, Any] | None,
          counts: dict[int, dict[str, int]] | None = None) -> SubscriptionView:
    assert row is not None
    tally = (counts if counts is not None else store.counts()).get(row["id"], {})
    return SubscriptionView(id=ids.SUBSCRIPTION(row["id"]), kind=row["kind"], url=row["url"],
                            events=row["events"], description=row["description"],
                            active=row["active"], created_by=row["created_by"],
                            created_at=row["created_at"],
                            deliveries={s: tally.get(s, 0) for s in STATUSES})


def _delivery(row: dict[str, Any]) -> DeliveryView:
    waiting = row["status"] == "pending"
    return DeliveryView(
        id=ids.DELIVERY(row["id"]), subscription_id=ids.SUBSCRIPTION(row["subscription_id"]),
        event=row["event"], order_id=ids.ORDER(row["order_id"]),
        event_id=ids.message_id(row["outbox_id"]), status=row["status"],
        attempts=row["attempts"], last_status_code=row["last_status_code"],
        last_error=row["last_error"], created_at=row["created_at"],
        last_attempt_at=row["last_attempt_at"],
        next_attempt_at=row["next_attempt_at"] if waiting else None,
        delivered_at=row["delivered_at"])

