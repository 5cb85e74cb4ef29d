"""A webhook delivery's number names one delivery for good: a subscription removed while the
relay sends its newest delivery does not leave that number to the next delivery written, so
the relay's answer for the removed one lands on nothing (SQLite: migration 0039)."""

from __future__ import annotations

from datetime import datetime

from integrations.db.webhooks import Attempt, Claimed
from statemachine.ids import message_id
from tests.factories import placed_order


class RemovingMidSend:
    """A sender whose receiver for `doomed` answers 200 while ops remove that subscription and
    a new order's event is handed out (the relay is between its claim and its record)."""

    events = None

    def __init__(self, shop, doomed: str):
        self.shop, self.doomed = shop, doomed
        self.sent: list[tuple[str, str]] = []  # (subscription, event) pairs sent
        self.relay = None

    def send(self, delivery: Claimed, now: datetime) -> Attempt:
        self.sent.append((f"sub-{delivery.subscription_id}", message_id(delivery.outbox_id)))
        if f"sub-{delivery.subscription_id}" == self.doomed and self.relay is not None:
            relay, self.relay = self.relay, None  # once
            self.shop.webhooks.remove(self.doomed)
            placed_order(self.shop, buyer="b-2")
            relay.fan_out()
        return Attempt(delivery.id, delivery.attempts, 200, None)


def test_a_delivery_answered_after_its_subscription_was_removed_marks_no_other_delivered(shop):
    # Given the ERP subscribed to every order event, then the TMS to orders awaiting payment
    # (its delivery is the newest of the first order's: created, awaiting_payment)
    erp = shop.webhooks.subscribe("https://erp.example.cn/hooks", events=["orderpilot.order.*"])
    tms = shop.webhooks.subscribe("https://tms.example.cn/hooks",
                                  events=["orderpilot.order.awaiting_payment"])
    placed_order(shop, buyer="b-1")
    sender = RemovingMidSend(shop, tms.id)
    relay = shop.webhooks.relay({"webhook": sender})
    sender.relay = relay
    try:
        # When the TMS is removed while its delivery is being sent, and the next order's
        # events are handed to the ERP before the relay records the TMS's answer
        relay.drain()
    finally:
        relay.close()
    # Then every ERP delivery marked delivered was sent (before, on SQLite: the second order's
    # first event took the removed delivery's number and was marked delivered, never sent)
    erp_log = shop.webhooks.deliveries(erp.id)
    assert [(d.order_id, d.status) for d in erp_log] == [("o-1", "delivered")] * 2 + [
        ("o-2", "delivered")] * 2
    unsent = [d.id for d in erp_log if (d.subscription_id, d.event_id) not in sender.sent]
    assert unsent == [], (unsent, sender.sent)
