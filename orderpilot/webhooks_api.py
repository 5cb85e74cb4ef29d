"""`pilot.webhooks`: outbound webhook subscriptions, their delivery logs, and the relay.

    sub = pilot.webhooks.subscribe("https://erp.example.com/hooks", events=["orderpilot.order.*"])
    sub.secret                      # whsec_…: give it to the receiver; it is never shown again
    pilot.webhooks.relay().drain()  # send what is due (or run `orderpilot webhooks relay`)
    pilot.webhooks.deliveries(sub.id, status="dead")
    pilot.webhooks.resend(subscription_id=sub.id)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from integrations.events.senders import connect_senders
from integrations.events.webhook_relay import Sender, WebhookRelay
from integrations.service import webhooks
from integrations.service.context import Context
from integrations.service.webhooks import DeliveryView, NewSubscription, SubscriptionView


class Webhooks:
    def __init__(self, context: Context):
        self._ctx = context

    def subscribe(self, url: str, *, events: Sequence[str] = ("orderpilot.*",),
                  description: str | None = None, secret: str | None = None,
                  actor: str = "api") -> NewSubscription:
        """Send matching events to `url` from now on, signed with `secret` (generated if None)."""
        return webhooks.subscribe(self._ctx, {"url": url, "events": list(events),
                                              "description": description, "secret": secret},
                                  actor)

    def list(self) -> list[SubscriptionView]:
        return webhooks.subscriptions(self._ctx)

    def pause(self, subscription_id: str) -> SubscriptionView:
        return webhooks.set_active(self._ctx, subscription_id, False)

    def resume(self, subscription_id: str) -> SubscriptionView:
        return webhooks.set_active(self._ctx, subscription_id, True)

    def remove(self, subscription_id: str) -> None:
        webhooks.remove(self._ctx, subscription_id)

    def deliveries(self, subscription_id: str | None = None, *, status: str | None = None,
                   order_id: str | None = None, limit: int = 100) -> list[DeliveryView]:
        """The delivery log (status pending / delivered / dead), oldest of the newest first."""
        from integrations.service.inputs import parse_id

        number = parse_id("order_id", order_id, "o") if order_id else None
        return webhooks.deliveries(self._ctx, subscription_id, status, number, limit)

    def resend(self, delivery_ids: Sequence[str] = (), *,
               subscription_id: str | None = None) -> int:
        """Queue dead-lettered deliveries again; returns how many."""
        return webhooks.resend(self._ctx, list(delivery_ids), subscription_id)

    def relay(self, senders: Mapping[str, Sender] | None = None) -> WebhookRelay:
        """A relay on this store (close it when done): webhooks, plus the tracking
        subscriptions and buyer notices the settings enable."""
        return WebhookRelay(self._ctx, senders or connect_senders(self._ctx))
