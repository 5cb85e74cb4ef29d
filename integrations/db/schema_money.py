"""Money rows: every provider call is an operation recorded *before* it is made, and disputes.

An operation row is written (pending) in the transaction that decides the money must move; the
provider is then called with the row's idempotency key, and the row is settled (succeeded /
failed) from the provider's answer or webhook. So money never moves without a record of it, and
a retry never moves it twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from integrations.db.base import Base, Id

OPEN_CHECKOUT = text("kind = 'checkout' AND swept_at IS NULL")


class PaymentOperationRow(Base):
    __tablename__ = "payment_operations"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    kind: Mapped[str] = mapped_column(String(16))  # checkout | capture | refund | void | payout
    status: Mapped[str] = mapped_column(String(16))  # pending | succeeded | failed
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    idem_key: Mapped[str] = mapped_column(String(200), unique=True)
    provider: Mapped[str] = mapped_column(String(16))  # simulated | stripe | alipay | offline
    payment_ref: Mapped[str | None] = mapped_column(String(128), index=True)
    provider_ref: Mapped[str | None] = mapped_column(String(128))
    lines: Mapped[list[Any]]  # [{line_no, quantity, amount}] for a line-level refund
    purpose: Mapped[dict[str, Any]]  # {"case": "c-3"} | {"claim": "cl-2"} | {"late": true} …
    reason: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    settled_at: Mapped[datetime | None]
    # a checkout the money sweep found closed for good (its order paid, its payment released
    # or refunded, or the checkout failed): never an abandoned payment again (money_sweep.py)
    swept_at: Mapped[datetime | None]
    __table_args__ = (Index("ix_payment_operations_order", "order_id", "status"),
                      Index("ix_payment_operations_status", "status", "created_at"),
                      # a payment webhook without our order id finds its order by the
                      # provider's reference too (money_store.order_of_payment)
                      Index("ix_payment_operations_provider_ref", "provider_ref"),
                      # the checkouts the money sweep still has to look at (partial)
                      Index("ix_payment_operations_open_checkouts", "id",
                            sqlite_where=OPEN_CHECKOUT, postgresql_where=OPEN_CHECKOUT))


class DisputeRow(Base):
    """A dispute (an inquiry or a chargeback): opened by the buyer's bank, answered with
    evidence, won or lost."""

    __tablename__ = "disputes"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    provider_ref: Mapped[str] = mapped_column(String(128))
    payment_ref: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int]
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(16))  # inquiry | chargeback (DisputeKind)
    reason: Mapped[str | None] = mapped_column(String(200))
    evidence_due_by: Mapped[datetime | None]
    evidence: Mapped[dict[str, Any] | None]
    booked: Mapped[int] = mapped_column(BigInteger, default=0)  # booked as refunded when lost
    unbooked: Mapped[int] = mapped_column(BigInteger, default=0)  # lost beyond what was left
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    __table_args__ = (UniqueConstraint("provider", "provider_ref"),)
