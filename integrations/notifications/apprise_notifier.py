"""Notifications through apprise: one URL list per audience (ops, reviewer, buyer) — the one
notification setting, ORDERPILOT_NOTIFY_ROUTES, for the flows, the webhooks and buyer notices:

    ORDERPILOT_NOTIFY_ROUTES='{"ops": ["mailto://ops:pw@example.com"], "reviewer": ["…"],
                               "buyer": ["json://sms-gateway.internal/send?:to={phone}",
                                         "mailto://shop:pw@smtp.example.cn?to={email}"]}'

Any apprise URL works (mail, Slack, Teams, DingTalk, WeCom, webhooks ...). A URL may name the
buyer's `{phone}` or `{email}`: it is filled per message from the message's contact (URL-
encoded), and skipped for a message that has no such contact. URLs are never logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import apprise
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from integrations.notifications.masking import PiiFilter, mask_url
from integrations.notifications.templates import render
from statemachine.errors import InvalidInput
from statemachine.ports import Message, Notifier

log = logging.getLogger("orderpilot.notifications")
log.addFilter(PiiFilter())
# apprise logs the URLs and payloads it sends at DEBUG: a buyer's URL carries their contact
logging.getLogger("apprise").addFilter(PiiFilter())
PLACEHOLDER = re.compile(r"\{(phone|email)\}")
SAMPLE = {"phone": "+8613800000000", "email": "buyer@example.com"}


class NotifySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERPILOT_NOTIFY_", env_file=".env",
                                      extra="ignore")

    routes: dict[str, list[str]] = Field(default_factory=dict,
                                         description="audience → apprise URLs")


def fill(url: str, contact: Mapping[str, str] | None) -> str | None:
    """The URL with {phone} / {email} filled in, or None when the contact lacks one."""
    wanted = PLACEHOLDER.findall(url)
    if any(not (contact or {}).get(name) for name in wanted):
        return None
    return PLACEHOLDER.sub(lambda m: quote(str((contact or {})[m.group(1)]), safe="+"), url)


def unusable_routes(routes: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Route → why apprise cannot use it, for each URL it refuses. The URL is shown as
    `mask_url` shows it (scheme and server): it may hold a password or a token."""
    return {f"routes.{audience}[{n}]": f"apprise cannot use {mask_url(url)} (the URL is not "
                                       "repeated: it may hold a password or a token)"
            for audience, urls in routes.items() for n, url in enumerate(urls)
            if not apprise.Apprise().add(fill(url, SAMPLE) or url)}


class AppriseNotifier:
    def __init__(self, routes: Mapping[str, Sequence[str]]):
        refused = unusable_routes(routes)
        if refused:
            raise InvalidInput(refused)
        self._routes = {audience: list(urls) for audience, urls in routes.items() if urls}

    def reaches(self, audience: str, contact: Mapping[str, str] | None = None) -> bool:
        """Whether a message to `audience` (with this contact) has at least one channel."""
        return any(fill(url, contact) for url in self._routes.get(audience, ()))

    def send(self, message: Message) -> bool:
        urls = [u for u in (fill(url, message.contact)
                            for url in self._routes.get(message.audience, ())) if u]
        if not urls:
            log.warning("no channel for %s: %s not sent", message.audience, message.title)
            return False
        channel = apprise.Apprise()
        for url in urls:
            channel.add(url)
        ok = bool(channel.notify(title=message.title, body=message.body))
        log.info("%s %s to %d %s channel(s): %s", "sent" if ok else "FAILED to send",
                 message.event, len(urls), message.audience, message.title)
        return ok


def notify_event(notifier: Notifier, event: str, payload: Mapping[str, Any]) -> bool | None:
    """Render the event's template and send it; None when the event has no template."""
    message = render(event, payload)
    return None if message is None else notifier.send(message)
