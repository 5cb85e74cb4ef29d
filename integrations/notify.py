"""The flows' notifier: the apprise adapter (`integrations.notifications`) behind the
`statemachine.ports.Notifier` port, configured by ORDERPILOT_NOTIFY_ROUTES — the one
notification setting (audience → apprise URLs: ops, reviewer, buyer).

An audience with no URL goes to the log. `deliver` raises when a configured channel refused.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from integrations.config import read_settings
from integrations.notifications.apprise_notifier import (
    AppriseNotifier,
    NotifySettings,
    unusable_routes,
)
from integrations.notifications.masking import PiiFilter
from statemachine.errors import InvalidInput, OrderPilotError
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


def notify_routes() -> dict[str, list[str]]:
    """ORDERPILOT_NOTIFY_ROUTES read and checked, as start-up does it: a value that is not an
    audience → URL list, or a URL apprise cannot use, is InvalidInput naming the variable and
    the route (`ops[0]`), never the URL (it holds passwords and tokens)."""
    routes = read_settings(NotifySettings).routes
    refused = unusable_routes(routes)
    if refused:
        raise InvalidInput({"ORDERPILOT_NOTIFY_ROUTES": "; ".join(
            f"{route.removeprefix('routes.')}: {why}" for route, why in refused.items())})
    return routes


def notifier_from(routes: Mapping[str, list[str]] | None = None) -> Notifier:
    """The flows' notifier for `routes` (default: read from the environment and checked)."""
    return RoutedNotifier(dict(notify_routes() if routes is None else routes))


def deliver(notifier: Notifier, message: Message) -> None:
    """Send the message or raise NotificationFailed."""
    if not notifier.send(message):
        raise NotificationFailed(f"{message.audience} message {message.event} for "
                                 f"{message.order_id} not sent")
