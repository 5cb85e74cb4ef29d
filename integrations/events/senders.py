"""The relay's senders besides webhooks: built-in subscriptions that act on events.

- tracking: every new parcel (`orderpilot.shipment.label_created`) is subscribed with the
  configured tracking provider (Kuaidi100 or AfterShip), retried with the relay's backoff,
  idempotent at the provider ("already subscribed" counts as done).

`connect_senders(ctx)` builds what the settings enable.
"""

from __future__ import annotations

from datetime import datetime

from integrations.carriers.aftership import AfterShipSubscriber
from integrations.carriers.kuaidi100 import Kuaidi100Subscriber
from integrations.carriers.tracking_updates import (
    SubscribeFailed,
    TrackingSubscriber,
    TransientSubscribeError,
)
from integrations.connect_config import TrackingPolicy, secret_of
from integrations.db.webhooks import Attempt, Claimed
from integrations.events.webhook_relay import Sender, StandardWebhookSender
from integrations.service.context import Context
from statemachine.errors import InvalidInput


class TrackingSubscriptionSender:
    """Subscribes each new parcel's waybill with the tracking provider."""

    events = ["orderpilot.shipment.label_created"]

    def __init__(self, ctx: Context, subscriber: TrackingSubscriber):
        self.ctx, self.subscriber = ctx, subscriber

    def send(self, delivery: Claimed, now: datetime) -> Attempt:
        data = delivery.payload
        code = self.ctx.settings.tracking.provider_code(str(data.get("carrier")))
        try:
            self.subscriber.subscribe(code, str(data.get("tracking_no")),
                                      self._phone(delivery.order_id))
        except TransientSubscribeError as error:
            return Attempt(delivery.id, delivery.attempts, None, str(error))
        except SubscribeFailed as error:
            return Attempt(delivery.id, delivery.attempts, None, str(error), permanent=True)
        return Attempt(delivery.id, delivery.attempts, 200, None)

    def _phone(self, order_id: int) -> str | None:
        with self.ctx.tx(readonly=True) as tx:
            attrs = tx.store.get_order(order_id).attrs
        return attrs.get("phone") or attrs.get("shipping_address", {}).get("phone")


def tracking_subscriber(policy: TrackingPolicy) -> TrackingSubscriber | None:
    """The configured provider's subscriber; InvalidInput names a missing setting."""
    if policy.provider == "kuaidi100":
        key, salt = secret_of(policy.kuaidi100_key), secret_of(policy.kuaidi100_salt)
        missing = {f"tracking.kuaidi100_{name}": "required for the kuaidi100 provider"
                   for name, value in (("key", key), ("salt", salt),
                                       ("callback_url", policy.kuaidi100_callback_url))
                   if not value}
        if missing:
            raise InvalidInput(missing)
        return Kuaidi100Subscriber(key, salt, policy.kuaidi100_callback_url or "",
                                   policy.kuaidi100_poll_url)
    if policy.provider == "aftership":
        api_key = secret_of(policy.aftership_api_key)
        if not api_key:
            raise InvalidInput({"tracking.aftership_api_key": "required for the aftership "
                                                               "provider"})
        return AfterShipSubscriber(api_key, policy.aftership_domain)
    return None


def connect_senders(ctx: Context) -> dict[str, Sender]:
    """Webhooks always; tracking subscriptions when a provider is configured."""
    senders: dict[str, Sender] = {"webhook": StandardWebhookSender(ctx.settings.webhooks)}
    subscriber = tracking_subscriber(ctx.settings.tracking)
    if subscriber is not None:
        senders["tracking"] = TrackingSubscriptionSender(ctx, subscriber)
    return senders
