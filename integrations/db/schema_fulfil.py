"""Fulfilment rows: pick waves, sku flags and bin locations, stock adjustments, warehouse
transfers and parcel claims. Same `Base` as the core schema (one metadata for alembic)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from integrations.db.base import Base, Id


class WaveRow(Base):
    __tablename__ = "waves"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    warehouse: Mapped[str] = mapped_column(String(64), index=True)
    carrier: Mapped[str] = mapped_column(String(64))
    cutoff_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))  # open | released
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    released_by: Mapped[str | None] = mapped_column(String(128))
    released_at: Mapped[datetime | None]


class WaveOrderRow(Base):
    """An order in a wave, for one warehouse (a split order is in one wave per warehouse)."""

    __tablename__ = "wave_orders"
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id"), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    warehouse: Mapped[str] = mapped_column(String(64))
    position: Mapped[int]
    outcome: Mapped[str | None] = mapped_column(String(200))  # set at release
    __table_args__ = (UniqueConstraint("order_id", "warehouse"),)


class SkuFlagRow(Base):
    """Skus that need a double check at packing: high_value, high_return, easily_confused."""

    __tablename__ = "sku_flags"
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    flag: Mapped[str] = mapped_column(String(32), primary_key=True)
    note: Mapped[str | None] = mapped_column(String(200))


class SkuSpecRow(Base):
    __tablename__ = "sku_specs"
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    weight_g: Mapped[int]


class BinLocationRow(Base):
    __tablename__ = "bin_locations"
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    warehouse: Mapped[str] = mapped_column(String(64), primary_key=True)
    location: Mapped[str] = mapped_column(String(64))


class StockAdjustmentRow(Base):
    """Every change to stock that is not a sale: count corrections, damage, write-offs."""

    __tablename__ = "stock_adjustments"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    sku: Mapped[str] = mapped_column(String(64))
    warehouse: Mapped[str] = mapped_column(String(64))
    delta: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))  # count | damage | short_pick | return_write_off
    reason: Mapped[str] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(128))
    order_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    at: Mapped[datetime]
    __table_args__ = (Index("ix_stock_adjustments_sku_wh", "sku", "warehouse"),)


class TransferRow(Base):
    """Stock moving between warehouses: off the sender's shelf, not yet on the receiver's."""

    __tablename__ = "stock_transfers"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    sku: Mapped[str] = mapped_column(String(64))
    from_warehouse: Mapped[str] = mapped_column(String(64))
    to_warehouse: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), index=True)  # in_transit | received
    reason: Mapped[str] = mapped_column(String(500))
    sent_by: Mapped[str] = mapped_column(String(128))
    sent_at: Mapped[datetime]
    received_by: Mapped[str | None] = mapped_column(String(128))
    received_at: Mapped[datetime | None]
    order_id: Mapped[int | None] = mapped_column(BigInteger, index=True)  # a refill for it
    line_no: Mapped[int | None]


class CarrierKpiRow(Base):
    """Carrier KPIs as of the last KPI job run (read at every ship; recomputed by the job)."""

    __tablename__ = "carrier_kpis"
    carrier: Mapped[str] = mapped_column(String(64), primary_key=True)
    parcels: Mapped[int]
    on_time: Mapped[float | None] = mapped_column(Float)
    loss_rate: Mapped[float | None] = mapped_column(Float)
    complaint_rate: Mapped[float | None] = mapped_column(Float)
    computed_at: Mapped[datetime]


class ClaimRow(Base):
    """A parcel that went wrong (lost, damaged, returned): the buyer's compensation and the
    claim against the carrier."""

    __tablename__ = "parcel_claims"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # lost | damaged | returned
    state: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int]
    compensation: Mapped[str] = mapped_column(String(16))  # refund | reship | case | none
    compensated: Mapped[int] = mapped_column(BigInteger)  # refunded to the buyer, minor units
    goods_value: Mapped[int] = mapped_column(BigInteger)
    claimed: Mapped[int] = mapped_column(BigInteger, default=0)
    recovered: Mapped[int] = mapped_column(BigInteger, default=0)
    details: Mapped[dict[str, Any]]  # goods, evidence, replacement parcel, case, inspection
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WaybillCounterRow(Base):
    """The last waybill number the simulated carrier gave per prefix (its name in capitals,
    SIM-EXPRESS): numbers come from the store, so two processes on one store never hand out
    the same one, nor two carriers whose names differ only in case."""

    __tablename__ = "waybill_counters"
    prefix: Mapped[str] = mapped_column(String(64), primary_key=True)  # a carrier's (ASCII)
    last_no: Mapped[int] = mapped_column(BigInteger)
