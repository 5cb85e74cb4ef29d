"""Notifications through apprise: one URL list per audience (buyer, reviewer, ops).

Routes come from the environment, e.g. ORDERPILOT_NOTIFY_ROUTES='{"ops": ["mailto://..."]}';
any apprise URL works (mail, Slack, Teams, DingTalk, WeCom, webhooks ...).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import apprise
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from integrations.notifications.masking import PiiFilter
from integrations.notifications.templates import render
from statemachine.ports import Message, Notifier

log = logging.getLogger("orderpilot.notifications")
log.addFilter(PiiFilter())


class NotifySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERPILOT_NOTIFY_", env_file=".env",
                                      extra="ignore")

    routes: dict[str, list[str]] = Field(default_factory=dict,
                                         description="audience → apprise URLs")


class AppriseNotifier:
    def __init__(self, routes: Mapping[str, Sequence[str]]):
        self._channels: dict[str, apprise.Apprise] = {}
        for audience, urls in routes.items():
            channel = apprise.Apprise()
            for url in urls:
                if not channel.add(url):
                    raise ValueError(f"routes.{audience}: apprise cannot use {url!r}")
            self._channels[audience] = channel

    def send(self, message: Message) -> bool:
        channel = self._channels.get(message.audience)
        if channel is None or len(channel) == 0:
            log.warning("no channel for %s: %s not sent", message.audience, message.title)
            return False
        ok = bool(channel.notify(title=message.title, body=message.body))
        log.info("%s %s to %d %s channel(s): %s", "sent" if ok else "FAILED to send",
                 message.event, len(channel), message.audience, message.title)
        return ok


def notify_event(notifier: Notifier, event: str, payload: Mapping[str, Any]) -> bool | None:
    """Render the event's template and send it; None when the event has no template."""
    message = render(event, payload)
    return None if message is None else notifier.send(message)
