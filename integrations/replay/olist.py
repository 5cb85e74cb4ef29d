"""Import order timelines from a CSV (Olist's format by default): stream, check, never crash.

Each row becomes either a `Timeline` (a consistent history the replay can drive through the
lifecycle) or a `Skipped` (the row number, the order reference and a sentence saying why).
A merchant loads their own history by passing a different `ColumnMap`, which may name a
column holding each order's shipping address on one line (`address`: placed as the buyer typed
it, parsed as every placement parses it — a Chinese address by province, city and district).
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from integrations.replay.dates import parse_when


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Which CSV column holds each fact. Defaults: the Olist `olist_orders_dataset.csv`."""

    ref: str = "order_id"
    customer: str = "customer_id"
    status: str = "order_status"
    purchased_at: str = "order_purchase_timestamp"
    approved_at: str = "order_approved_at"
    handed_over_at: str = "order_delivered_carrier_date"
    delivered_at: str = "order_delivered_customer_date"
    promised_by: str = "order_estimated_delivery_date"
    # the shipping address on one line ("浙江省杭州市西湖区文三路18号"); None: the file has none
    # (Olist's has not) and every order ships to a stand-in address (drivers.place_request)
    address: str | None = None


OLIST = ColumnMap()
REQUIRED = ("ref", "customer", "status", "purchased_at")
STATUSES = {"created", "approved", "invoiced", "processing", "shipped", "delivered",
            "canceled", "cancelled", "unavailable"}
CANCELLED = {"canceled", "cancelled", "unavailable"}


@dataclass(frozen=True, slots=True)
class Timeline:
    """One order's known history; every timestamp is timezone-aware UTC."""

    row: int
    ref: str
    customer: str
    status: str
    purchased_at: datetime
    approved_at: datetime | None
    handed_over_at: datetime | None
    delivered_at: datetime | None
    promised_by: datetime | None
    address: str | None = None  # as the file wrote it; None: no column, or an empty cell

    @property
    def cancelled(self) -> bool:
        return self.status in CANCELLED

    @property
    def last_known(self) -> datetime:
        stamps = (self.purchased_at, self.approved_at, self.handed_over_at, self.delivered_at)
        return max(s for s in stamps if s is not None)


@dataclass(frozen=True, slots=True)
class Skipped:
    row: int
    ref: str
    reason: str


def read_timelines(path: str | Path, columns: ColumnMap = OLIST,
                   assume_tz: tzinfo = UTC) -> Iterator[Timeline | Skipped]:
    """Yield a Timeline or a Skipped per data row, in file order (gzip or plain CSV)."""
    with _open_text(Path(path)) as handle:
        reader = csv.DictReader(handle)
        missing = [name for name in _mapped(columns) if name not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
        seen: set[str] = set()
        for number, raw in enumerate(_records(reader), start=2):  # row 1 is the header
            item = check_row(number, raw, columns, assume_tz) if isinstance(raw, dict) \
                else Skipped(number, f"row-{number}", f"unreadable CSV record: {raw}")
            if isinstance(item, Timeline):
                if item.ref in seen:
                    item = Skipped(number, item.ref, "duplicate order id")
                seen.add(item.ref)
            yield item


def _mapped(columns: ColumnMap) -> list[str]:
    """The columns the file must have: every fact's, the optional ones a map leaves out
    (None) aside."""
    return [name for f in fields(ColumnMap) if (name := getattr(columns, f.name)) is not None]


def _records(reader: csv.DictReader) -> Iterator[dict | str]:
    """Each record as a dict, or the csv module's complaint about it (reading goes on)."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield str(error)


def check_row(number: int, raw: dict[str | None, str | list[str] | None], columns: ColumnMap,
              assume_tz: tzinfo) -> Timeline | Skipped:
    """Turn one CSV row into a Timeline, or say why it cannot be replayed."""
    ref = str(raw.get(columns.ref) or "").strip() or f"row-{number}"
    if None in raw:
        return Skipped(number, ref, "more fields than the header has")
    if any(value is None for value in raw.values()):
        return Skipped(number, ref, "fewer fields than the header has")
    values = {f.name: str(raw.get(getattr(columns, f.name)) or "").strip()
              if getattr(columns, f.name) is not None else "" for f in fields(ColumnMap)}
    for name in REQUIRED:
        if not values[name]:
            return Skipped(number, ref, f"missing {getattr(columns, name)}")
    status = values["status"].lower()
    if status not in STATUSES:
        return Skipped(number, ref, f"unknown status {values['status']!r}")
    stamps: dict[str, datetime | None] = {}
    for name in ("purchased_at", "approved_at", "handed_over_at", "delivered_at", "promised_by"):
        try:
            stamps[name] = parse_when(values[name], assume_tz) if values[name] else None
        except ValueError:
            return Skipped(number, ref, f"unparseable date in {getattr(columns, name)}: "
                                        f"{values[name]!r}")
    timeline = Timeline(number, ref, values["customer"], status, **stamps,  # type: ignore[arg-type]
                        address=values["address"] or None)
    problem = inconsistency(timeline)
    return timeline if problem is None else Skipped(number, ref, problem)


def inconsistency(t: Timeline) -> str | None:
    """Why this history cannot have happened in the lifecycle, or None if it can."""
    order = [("purchased", t.purchased_at), ("approved", t.approved_at),
             ("handed to the carrier", t.handed_over_at), ("delivered", t.delivered_at)]
    known = [(name, when) for name, when in order if when is not None]
    for i, (later, when) in enumerate(known):
        for earlier, before in known[:i]:
            if when < before:
                return f"{later} before {earlier}"
    if t.promised_by is not None and t.promised_by < t.purchased_at:
        return "promised delivery before purchased"
    if (t.handed_over_at or t.delivered_at) and t.approved_at is None:
        return "shipped without an approval (payment) time"
    if t.delivered_at and t.handed_over_at is None:
        return "delivered without a carrier hand-off time"
    if t.status == "delivered" and t.delivered_at is None:
        return "status delivered but no delivery time"
    if t.cancelled and t.handed_over_at is not None:
        return f"status {t.status} after hand-off to the carrier (cancel is only allowed " \
               "before shipping)"
    return None


def _open_text(path: Path) -> io.TextIOBase:
    with path.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    if gzipped:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", errors="replace",
                                newline="")
    return path.open(encoding="utf-8-sig", errors="replace", newline="")  # type: ignore[return-value]
