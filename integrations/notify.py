"""Notifier adapters: apprise (any of its 100+ services by URL) and a log-only fallback."""

from __future__ import annotations

import logging

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from statemachine.errors import OrderPilotError
from statemachine.flow_ports import Notice, Notifier

log = logging.getLogger("orderpilot.notify")


class NotificationFailed(OrderPilotError):
    code = "notification_failed"


class NotifySettings(BaseSettings):
    """ORDERPILOT_NOTIFY_STAFF_URLS / _BUYER_URLS: JSON lists of apprise URLs."""

    model_config = SettingsConfigDict(env_prefix="ORDERPILOT_NOTIFY_", extra="ignore")
    staff_urls: list[str] = Field(default_factory=list)
    buyer_urls: list[str] = Field(default_factory=list)


class AppriseNotifier:
    """Sends each notice to the apprise URLs of its audience; raises if none accepted it."""

    def __init__(self, urls: dict[str, list[str]]):
        import apprise

        self._targets = {}
        for audience, targets in urls.items():
            sender = apprise.Apprise()
            for url in targets:
                if not sender.add(url):
                    raise NotificationFailed(f"not an apprise URL for {audience}: {url!r}")
            self._targets[audience] = sender

    def send(self, notice: Notice) -> None:
        sender = self._targets.get(notice.audience)
        if sender is None:
            log.info("no %s channel configured: %s", notice.audience, notice.subject)
            return
        if not sender.notify(title=notice.subject, body=notice.body):
            raise NotificationFailed(f"{notice.audience} notice for {notice.order_id} not sent")


class LogNotifier:
    """Writes notices to the log: the default when no channel is configured."""

    def send(self, notice: Notice) -> None:
        log.warning("[%s] %s: %s", notice.audience, notice.subject, notice.body)


def notifier_from(settings: NotifySettings | None = None) -> Notifier:
    """Apprise when any URL is configured, else the log."""
    settings = settings or NotifySettings()
    if not (settings.staff_urls or settings.buyer_urls):
        return LogNotifier()
    return AppriseNotifier({"staff": settings.staff_urls, "buyer": settings.buyer_urls})
