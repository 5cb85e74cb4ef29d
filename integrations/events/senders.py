"""The relay's senders besides webhooks: built-in subscriptions that act on events.

- tracking: every new parcel (`orderpilot.shipment.label_created`) is subscribed with the
  configured tracking provider (Kuaidi100 or AfterShip), retried with the relay's backoff,
  idempotent at the provider ("already subscribed" counts as done);
- notices: buyer notices (confirmed, paid, shipped, delivered, refunded, after-sales
  decision) through apprise, in order per order, retried like webhooks.

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
from integrations.notifications.apprise_notifier import AppriseNotifier
from integrations.notifications.notices import NoticeFacts, events_for, render_notice
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


class NoticeSender:
    """Tells the buyer what happened (integrations/notifications/notices.py) through the
    `buyer` route; an order with no contact a route can use is skipped, with a note."""

    def __init__(self, ctx: Context, notifier: AppriseNotifier):
        self.ctx, self.notifier, self.policy = ctx, notifier, ctx.settings.notices
        self.events = events_for(self.policy.send)

    def send(self, delivery: Claimed, now: datetime) -> Attempt:
        facts, contact = self._facts(delivery.order_id)
        message = render_notice(delivery.event, delivery.payload, facts, self.policy.shop_name,
                                self.policy.language, contact)
        if message is None:
            return Attempt(delivery.id, delivery.attempts, 204, "nothing to tell the buyer")
        if not self.notifier.reaches("buyer", contact):
            return Attempt(delivery.id, delivery.attempts, 204,
                           "skipped: no phone or email a buyer route can use")
        if self.notifier.send(message):
            return Attempt(delivery.id, delivery.attempts, 200, None)
        return Attempt(delivery.id, delivery.attempts, None, "a buyer channel refused it")

    def _facts(self, order_id: int) -> tuple[NoticeFacts, dict[str, str]]:
        codes, template = self.ctx.settings.tracking, self.policy.tracking_url
        with self.ctx.tx(readonly=True) as tx:
            order = tx.store.get_order(order_id)
            parcels = [s for s in tx.store.shipments_of(order_id) if s.purpose == "order"]
        attrs = order.attrs
        contact = {k: v for k, v in {"phone": attrs.get("phone"),
                                     "email": attrs.get("email")}.items() if v}
        links = [{"carrier": s.carrier, "tracking_no": s.tracking_no,
                  "link": template.format(carrier_code=codes.provider_code(s.carrier),
                                          tracking_no=s.tracking_no)} for s in parcels]
        hold = order.hold_expires_at.strftime("%Y-%m-%d %H:%M UTC") \
            if order.hold_expires_at else None
        return NoticeFacts(order.currency, order.total, order.paid, hold,
                           attrs.get("locale"), links), contact


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


def connect_senders(ctx: Context, routes: dict[str, list[str]] | None = None
                    ) -> dict[str, Sender]:
    """Webhooks always; tracking subscriptions when a provider is configured; buyer notices
    when the `buyer` route (ORDERPILOT_NOTIFY_ROUTES, as the context read it at start-up) has
    a URL and a notice is switched on."""
    senders: dict[str, Sender] = {"webhook": StandardWebhookSender(ctx.settings.webhooks)}
    subscriber = tracking_subscriber(ctx.settings.tracking)
    if subscriber is not None:
        senders["tracking"] = TrackingSubscriptionSender(ctx, subscriber)
    routes = ctx.notify_routes if routes is None else routes
    if routes.get("buyer") and ctx.settings.notices.send:
        senders["notices"] = NoticeSender(ctx, AppriseNotifier({"buyer": routes["buyer"]}))
    return senders
