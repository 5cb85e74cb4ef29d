"""Rows of the shop connections: outbound webhook subscriptions and their deliveries.

A delivery is one outbox event for one subscription. It is sent at least once, in order per
(subscription, order): a delivery waits while an earlier one of the same chain is retrying or
dead-lettered, so a receiver never sees an order's events out of order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from integrations.db.base import Base, Id
from statemachine import limits


class WebhookSubscriptionRow(Base):
    """Where to send which events, signed with which secret (Standard Webhooks)."""

    __tablename__ = "webhook_subscriptions"
    # SQLite: a removed subscription's number is never given to a new one (migration 0036)
    __table_args__ = {"sqlite_autoincrement": True}
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # webhook | notices (buyer notices)
    url: Mapped[str] = mapped_column(String(limits.URL))
    secret: Mapped[str] = mapped_column(String(200))  # whsec_…; never logged or listed
    events: Mapped[list[Any]]  # filters such as "orderpilot.order.*"
    description: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool]
    after_outbox_id: Mapped[int] = mapped_column(BigInteger)  # hears later events only
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebhookDeliveryRow(Base):
    """One event for one subscription: pending → delivered, or dead after too many failures."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    outbox_id: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[int] = mapped_column(BigInteger)
    event: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # pending | delivered | dead
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime]  # also the claim: a relay pushes it out while sending
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    __table_args__ = (
        UniqueConstraint("subscription_id", "outbox_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_chain", "subscription_id", "order_id", "id"),
        # SQLite: a delivery removed with its subscription leaves its number unused (the
        # relay records an answer by number; migration 0039)
        {"sqlite_autoincrement": True},
    )
