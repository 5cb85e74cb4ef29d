"""Typed rows (SQLAlchemy 2.0): the schema. Rows become domain objects in repository.py.

The base and column types live in base.py; the other tables in schema_*.py, all on one
metadata (importing this module registers them).

Every timestamp column is timezone-aware UTC (`UtcDateTime`), money is integer minor units.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

# every table on the one metadata: importing schema registers the sub-schemas' tables too
from integrations.db import (  # noqa: F401
    schema_connect,  # webhook subscriptions, deliveries
    schema_fulfil,  # fulfilment tables
    schema_integrations,  # integration tables
    schema_money,  # payment operations, disputes
    schema_risk,  # risk tables
)
from integrations.db.base import KEYED, Base, Id
from integrations.db.base import UtcDateTime as UtcDateTime  # the migrations name it here
from integrations.db.waybill_keys import waybill_key
from statemachine import limits

REVIEW_OVERDUE = "orderpilot.order.review_overdue"  # the review queue's escalation event
UNPAYABLE_UNPAID = "paid = 0 AND state IN ('expired', 'cancelled', 'rejected')"
UNPAID_PAYMENT = text(f"{UNPAYABLE_UNPAID} AND payment_ref IS NOT NULL")


class BuyerRow(Base):
    __tablename__ = "buyers"
    id: Mapped[str] = mapped_column(String(limits.NAME), primary_key=True)
    created_at: Mapped[datetime]
    credit_score: Mapped[int] = mapped_column(default=100)


class OrderRow(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    buyer_id: Mapped[str] = mapped_column(ForeignKey("buyers.id"), index=True)
    state: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[int] = mapped_column(BigInteger)
    paid: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    payment_ref: Mapped[str | None] = mapped_column(String(limits.REF))
    hold_expires_at: Mapped[datetime | None]
    attrs: Mapped[dict[str, Any]]  # shipping address, device, ip, phone, risk decision
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    __table_args__ = (
        CheckConstraint("refunded <= paid", name="refunded_within_paid"),
        CheckConstraint("total >= 0 AND paid >= 0 AND refunded >= 0", name="money_not_negative"),
        # the console's placements of the last day (db/health_counts.py)
        Index("ix_orders_created_at", "created_at"),
        # orders that can no longer be paid holding a payment the order started: the money
        # sweep's candidates for a release (partial: an UPDATE elsewhere only tests it)
        Index("ix_orders_unpaid_payment", "id", sqlite_where=UNPAID_PAYMENT,
              postgresql_where=UNPAID_PAYMENT),
    )


class OrderLineRow(Base):
    __tablename__ = "order_lines"
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(limits.NAME))
    quantity: Mapped[int]
    unit_price: Mapped[int] = mapped_column(BigInteger)
    refunded_quantity: Mapped[int] = mapped_column(default=0)
    __table_args__ = (CheckConstraint("refunded_quantity <= quantity", name="refund_qty"), KEYED)


class InventoryRow(Base):
    __tablename__ = "inventory"
    sku: Mapped[str] = mapped_column(String(limits.NAME), primary_key=True)
    warehouse: Mapped[str] = mapped_column(String(limits.NAME), primary_key=True)
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)
    __table_args__ = (
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="never_oversold"),
    )


class StockHoldRow(Base):
    __tablename__ = "stock_holds"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    line_no: Mapped[int]
    sku: Mapped[str] = mapped_column(String(limits.NAME))
    warehouse: Mapped[str] = mapped_column(String(limits.NAME))
    quantity: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))  # held | consumed | released
    created_at: Mapped[datetime]
    # the parcel these units travel in when it is not the one `ship` made for their warehouse
    # (a claim's reship, an exchange's replacement); None: that one (a parcel's goods are its
    # own, not its warehouse's: claims.parcel_goods; written by FulfilStore.load_parcels)
    shipment_id: Mapped[int | None] = mapped_column(BigInteger)
    __table_args__ = (Index("ix_stock_holds_live", "sku", "warehouse", "status"),)


class ShipmentRow(Base):
    __tablename__ = "shipments"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    state: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int]
    warehouse: Mapped[str] = mapped_column(String(limits.NAME))
    carrier: Mapped[str] = mapped_column(String(limits.NAME))
    tracking_no: Mapped[str] = mapped_column(String(limits.REF))
    created_at: Mapped[datetime]
    last_scan_at: Mapped[datetime | None]
    promised_by: Mapped[datetime | None]
    stall_reason: Mapped[str | None] = mapped_column(String(limits.REASON))
    # the furthest state on the way it reached: a stalled parcel never moves back behind it
    reached: Mapped[str | None] = mapped_column(String(32))
    # order: the order's goods out; return / replacement / repaired: an after-sales case's
    purpose: Mapped[str] = mapped_column(String(16), server_default="order")
    case_id: Mapped[int | None] = mapped_column(BigInteger, index=True)


# every carrier scan finds its parcel by waybill (records.shipment_by_tracking): without this
# index each scan read the whole table. On the waybill's key (number and carrier in capitals:
# integrations/db/waybill_keys.py), the form every lookup compares in (migration 0032)
SHIPMENTS_BY_WAYBILL = Index("ix_shipments_waybill_key",
                             waybill_key(ShipmentRow.__table__.c.tracking_no),
                             waybill_key(ShipmentRow.__table__.c.carrier))


class CaseRow(Base):
    __tablename__ = "aftersales_cases"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int]
    reason: Mapped[str] = mapped_column(String(limits.REASON))
    lines: Mapped[list[Any]]  # [{line_no, quantity, amount}]
    inspection: Mapped[str | None] = mapped_column(String(16))
    refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TransitionRow(Base):
    """Append-only history: one row per successful fire, written with the state change."""

    __tablename__ = "transition_history"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[int] = mapped_column(BigInteger, index=True)
    trigger: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(limits.ACTOR))
    at: Mapped[datetime]
    payload: Mapped[dict[str, Any]]


class DeadlineRow(Base):
    """What is due when. A row is deleted when it fires or when its entity moves on."""

    __tablename__ = "deadlines"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[int] = mapped_column(BigInteger)
    due_at: Mapped[datetime] = mapped_column(index=True)
    __table_args__ = (UniqueConstraint("kind", "entity", "entity_id"),)


class OutboxRow(Base):
    """One row per transition, published as an event after commit (at least once, in order)."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    event: Mapped[str] = mapped_column(String(limits.NAME))
    entity: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    fanned_out_at: Mapped[datetime | None]  # handed to the webhook subscriptions (connect)
    __table_args__ = (
        Index("ix_outbox_unpublished", "id", sqlite_where=text("published_at IS NULL"),
              postgresql_where=text("published_at IS NULL")),
        Index("ix_outbox_not_fanned_out", "id", sqlite_where=text("fanned_out_at IS NULL"),
              postgresql_where=text("fanned_out_at IS NULL")),
        # the review queue's escalations by order (db/review_tasks.py); partial, so the
        # other events (nearly all) cost an INSERT nothing more than testing the event
        Index("ix_outbox_review_overdue", "order_id", "created_at",
              sqlite_where=text(f"event = '{REVIEW_OVERDUE}'"),
              postgresql_where=text(f"event = '{REVIEW_OVERDUE}'")),
    )


class InboxRow(Base):
    """Idempotency keys of processed commands and incoming events, with the original result."""

    __tablename__ = "inbox"
    key: Mapped[str] = mapped_column(String(limits.IDEMPOTENCY_KEY), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    result: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    __table_args__ = KEYED
