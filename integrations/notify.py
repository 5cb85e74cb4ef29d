"""The flows' notifier: the apprise adapter (`integrations.notifications`) behind the
`statemachine.ports.Notifier` port, configured by ORDERPILOT_NOTIFY_ROUTES — the one
notification setting (audience → apprise URLs: ops, reviewer, buyer).

An audience with no URL goes to the log. `deliver` raises when a configured channel refused.
"""

from __future__ import annotations

import logging

from integrations.notifications.apprise_notifier import AppriseNotifier, NotifySettings
from integrations.notifications.masking import PiiFilter
from statemachine.errors import OrderPilotError
from statemachine.ports import Message, Notifier

log = logging.getLogger("orderpilot.notify")
log.addFilter(PiiFilter())


class NotificationFailed(OrderPilotError):
    code = "notification_failed"


class RoutedNotifier:
    """Apprise for the audiences that have URLs; the log for the others."""

    def __init__(self, routes: dict[str, list[str]]):
        self._routes = {audience: urls for audience, urls in routes.items() if urls}
        self._apprise = None
        if self._routes:
            self._apprise = AppriseNotifier(self._routes)

    def send(self, message: Message) -> bool:
        """Through apprise when a channel reaches the audience (a buyer URL naming {phone}
        or {email} needs the message's contact), else to the log."""
        if self._apprise is None or not self._apprise.reaches(message.audience,
                                                              message.contact):
            log.warning("[%s] %s: %s", message.audience, message.title, message.body)
            return True
        return self._apprise.send(message)


def notifier_from(settings: NotifySettings | None = None) -> Notifier:
    """The flows' notifier from the settings (default: the environment)."""
    return RoutedNotifier((settings or NotifySettings()).routes)


def deliver(notifier: Notifier, message: Message) -> None:
    """Send the message or raise NotificationFailed."""
    if not notifier.send(message):
        raise NotificationFailed(f"{message.audience} message {message.event} for "
                                 f"{message.order_id} not sent")
