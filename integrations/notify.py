"""The flows' notifier: the apprise adapter (`integrations.notifications`) behind the
`statemachine.ports.Notifier` port, configured by ORDERPILOT_NOTIFY_STAFF_URLS / _BUYER_URLS.

Staff URLs serve the `ops` and `reviewer` audiences, buyer URLs the `buyer` audience; an
audience with no URL goes to the log. `deliver` raises when a configured channel refused.
"""

from __future__ import annotations

import logging

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from integrations.notifications.apprise_notifier import AppriseNotifier
from integrations.notifications.masking import PiiFilter
from statemachine.errors import OrderPilotError
from statemachine.ports import Message, Notifier

log = logging.getLogger("orderpilot.notify")
log.addFilter(PiiFilter())


class NotificationFailed(OrderPilotError):
    code = "notification_failed"


class NotifySettings(BaseSettings):
    """ORDERPILOT_NOTIFY_STAFF_URLS / _BUYER_URLS: JSON lists of apprise URLs."""

    model_config = SettingsConfigDict(env_prefix="ORDERPILOT_NOTIFY_", extra="ignore")
    staff_urls: list[str] = Field(default_factory=list)
    buyer_urls: list[str] = Field(default_factory=list)


class RoutedNotifier:
    """Apprise for the audiences that have URLs; the log for the others."""

    def __init__(self, routes: dict[str, list[str]]):
        self._routes = {audience: urls for audience, urls in routes.items() if urls}
        self._apprise = None
        if self._routes:
            self._apprise = AppriseNotifier(self._routes)

    def send(self, message: Message) -> bool:
        if self._apprise is None or message.audience not in self._routes:
            log.warning("[%s] %s: %s", message.audience, message.title, message.body)
            return True
        return self._apprise.send(message)


def notifier_from(settings: NotifySettings | None = None) -> Notifier:
    """The flows' notifier from the settings (default: the environment)."""
    settings = settings or NotifySettings()
    return RoutedNotifier({"ops": settings.staff_urls, "reviewer": settings.staff_urls,
                           "buyer": settings.buyer_urls})


def deliver(notifier: Notifier, message: Message) -> None:
    """Send the message or raise NotificationFailed."""
    if not notifier.send(message):
        raise NotificationFailed(f"{message.audience} message {message.event} for "
                                 f"{message.order_id} not sent")
