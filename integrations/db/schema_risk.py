"""Risk-control rows: placement facts for signals, decisions (live and shadow), blacklist,
credit history, buyer sign-up times and review tasks. Same `Base` as the core schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from integrations.db.base import KEYED, Base, Id
from statemachine import limits


class RiskOrderFactsRow(Base):
    """What placement saw of an order, normalised, indexed for velocity and sharing counts."""

    __tablename__ = "risk_order_facts"
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    buyer_id: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(128))
    ip: Mapped[str | None] = mapped_column(String(64))
    address_norm: Mapped[str | None] = mapped_column(String(limits.ADDRESS_KEY))
    phone_norm: Mapped[str | None] = mapped_column(String(40))  # the buyer's, else recipient's
    # the recipient's number when it is another (the buyer sent their own): phone_velocity
    # counts a number in either column, so a ring's receiving phone is seen behind any buyer's
    recipient_phone_norm: Mapped[str | None] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    placed_at: Mapped[datetime]
    __table_args__ = (
        Index("ix_risk_facts_buyer", "buyer_id", "placed_at"),
        Index("ix_risk_facts_device", "device_id", "placed_at"),
        Index("ix_risk_facts_ip", "ip", "placed_at"),
        Index("ix_risk_facts_address", "address_norm", "placed_at"),
        Index("ix_risk_facts_phone", "phone_norm", "placed_at"),  # phone_velocity's range
        Index("ix_risk_facts_recipient_phone", "recipient_phone_norm", "placed_at"),
    )


class RiskDecisionRow(Base):
    """One decision per order and mode: `live` (acted on) or `shadow` (candidate, never acted)."""

    __tablename__ = "risk_decisions"
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8), primary_key=True)
    ruleset: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(8))
    score: Mapped[float]
    reasons: Mapped[list[Any]]  # [{rule, text, values}]
    decided_at: Mapped[datetime]
    __table_args__ = (Index("ix_risk_decisions_time", "mode", "decided_at"), KEYED)


class BlacklistEntryRow(Base):
    """A block- or allow-listed buyer / device / phone / address / ip (or range): the value
    as compared (normalised) and as typed, why, who, until when, and the evidence."""

    __tablename__ = "risk_blacklist_entries"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    list_name: Mapped[str] = mapped_column(String(8), server_default="block")  # block | allow
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(500))
    shown: Mapped[str | None] = mapped_column(String(500))  # as the person typed it
    reason: Mapped[str] = mapped_column(String(500))
    evidence_order_ids: Mapped[list[Any]]
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[str | None] = mapped_column(String(128))
    __table_args__ = (
        Index("uq_risk_lists_active", "list_name", "kind", "value", unique=True,
              sqlite_where=text("removed_at IS NULL"),
              postgresql_where=text("removed_at IS NULL")),
        # every placement looks its keys up by (kind, value) in both lists
        # (risk_signals.list_candidates); the index above leads with the list. Not partial:
        # SQLite plans each branch of that OR alone and then uses no partial index
        Index("ix_risk_lists_match", "kind", "value"),
    )


class CreditEventRow(Base):
    """Append-only credit history: what happened to a buyer and how the score moved."""

    __tablename__ = "risk_credit_events"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    buyer_id: Mapped[str] = mapped_column(ForeignKey("buyers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(String(500))
    before: Mapped[int]
    after: Mapped[int]
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime]


class BuyerProfileRow(Base):
    """A buyer's real sign-up time, when the shop tells us (first order is not sign-up)."""

    __tablename__ = "risk_buyer_profiles"
    buyer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    signed_up_at: Mapped[datetime]


class ReviewTaskRow(Base):
    """A held order waiting for a person; closed with who decided, what, and why."""

    __tablename__ = "review_tasks"
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    opened_at: Mapped[datetime]
    due_at: Mapped[datetime]
    reasons: Mapped[list[Any]]
    score: Mapped[float]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decision: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(500))
    __table_args__ = (
        Index("ix_review_tasks_open", "due_at", sqlite_where=text("decided_at IS NULL"),
              postgresql_where=text("decided_at IS NULL")),
    )


# --- counters maintained at placement and on outcomes, so signals cost the same whatever the
# length of a buyer's history (see integrations/db/risk_counters.py) --------------------

class RiskBuyerStatsRow(Base):
    """A buyer's orders by outcome and disputes, counted as they happen."""

    __tablename__ = "risk_buyer_stats"
    buyer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    orders: Mapped[int]
    cancelled: Mapped[int]
    completed: Mapped[int]
    disputes: Mapped[int]
    __table_args__ = KEYED


class RiskBuyerSpendRow(Base):
    """What a buyer spent per currency: the mean order amount without reading the orders."""

    __tablename__ = "risk_buyer_spend"
    buyer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    orders: Mapped[int]
    amount: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = KEYED


class RiskKeyBuyerRow(Base):
    """Each buyer seen on a device or IP, once."""

    __tablename__ = "risk_key_buyers"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(128), primary_key=True)
    buyer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    __table_args__ = KEYED


class RiskKeyStatsRow(Base):
    """How many distinct buyers a device or IP has seen."""

    __tablename__ = "risk_key_stats"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(128), primary_key=True)
    buyers: Mapped[int]
    __table_args__ = KEYED


class RiskBuyerAddressRow(Base):
    """Each address key a buyer shipped to, with the last time: address changes per window."""

    __tablename__ = "risk_buyer_addresses"
    buyer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    address_key: Mapped[str] = mapped_column(String(limits.ADDRESS_KEY), primary_key=True)
    last_seen: Mapped[datetime]
    __table_args__ = KEYED


class VerificationChallengeRow(Base):
    """A step-up verification of an order: the code's hash, tries, and how it ended."""

    __tablename__ = "verification_challenges"
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    send_failed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))  # passed | failed | expired
    decided_at: Mapped[datetime | None]
