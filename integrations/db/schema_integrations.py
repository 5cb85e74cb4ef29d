"""Rows owned by the integrations: inbound webhook events, payment records, order notes, the
install's own secrets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from integrations.db.base import KEYED, Base, Id
from statemachine import limits


class WebhookEventRow(Base):
    """One accepted inbound event: its key, what it did and the response it got (for replays)."""

    __tablename__ = "webhook_events"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # "<source>:<event id>"
    source: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    body_sha256: Mapped[str] = mapped_column(String(64))
    applied: Mapped[bool]
    note: Mapped[str | None] = mapped_column(String(500))
    status_code: Mapped[int]
    response: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime | None]
    received_at: Mapped[datetime]
    # the console's outcomes by source (db/health_counts.py) read this index only
    __table_args__ = (Index("ix_webhook_events_outcome", "source", "status_code", "applied"),)


class PaymentRecordRow(Base):
    """Money movements reported by the gateway or made through it (captures, refunds, ...)."""

    __tablename__ = "payment_records"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    kind: Mapped[str] = mapped_column(String(16))  # capture | failed | refund | chargeback | void
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    provider_ref: Mapped[str | None] = mapped_column(String(limits.REF))
    event_key: Mapped[str | None] = mapped_column(String(200))
    case_id: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(limits.REASON))
    at: Mapped[datetime]
    __table_args__ = (Index("ix_payment_records_order", "order_id", "id"),)


class OrderNoteRow(Base):
    """A note or message attached to an order by staff, the buyer or an integration."""

    __tablename__ = "order_notes"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    kind: Mapped[str] = mapped_column(String(16))  # note | message | photos
    author: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[Any]]
    at: Mapped[datetime]
    __table_args__ = (Index("ix_order_notes_order", "order_id", "id"),)


class InstallSecretRow(Base):
    """A secret this install generated for itself, once (migration 0038), read by name: the
    key of the buyer ids derived for imports (service/buyer_ids.py). Kept in the store as the
    webhook subscriptions' signing secrets are: it must follow the data it keys (a backup,
    a copy to staging) or the same email stops being the same buyer. Never logged."""

    __tablename__ = "install_secrets"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    __table_args__ = KEYED
