"""Reading a purchase history CSV(.gz) into placement facts, with a documented column mapping."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TextIO

from statemachine.risk_port import PlacedLine, PlacementFacts


class HistoryFormatError(ValueError):
    """The history file is missing a required column or has an unreadable value."""


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which CSV column feeds which engine field. Optional columns may be absent from a file."""

    buyer_id: str = "user_id"
    placed_at: str = "purchase_time"
    amount: str = "purchase_value"  # currency units; multiplied by `amount_scale`
    account_created_at: str | None = "signup_time"
    device_id: str | None = "device_id"
    ip: str | None = "ip_address"
    label: str | None = "class"
    amount_scale: int = 100
    currency: str = "USD"


FRAUD_ECOMMERCE = ColumnMapping()


@dataclass(frozen=True, slots=True)
class HistoryRow:
    row: int  # 1-based data row number in the input file
    facts: PlacementFacts
    account_created_at: datetime | None
    label: int | None


def open_text(path: str | Path) -> TextIO:
    """Open a .csv or .csv.gz file as text."""
    path = Path(path)
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return path.open("r", encoding="utf-8", newline="")


def _time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.strip())
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _optional(record: dict[str, str], column: str | None) -> str | None:
    value = record.get(column) if column else None
    return value.strip() if value and value.strip() else None


def _to_row(n: int, record: dict[str, str], m: ColumnMapping) -> HistoryRow:
    try:
        amount = int(Decimal(record[m.amount]) * m.amount_scale)
        placed_at = _time(record[m.placed_at])
        created = _optional(record, m.account_created_at)
        label = _optional(record, m.label)
        facts = PlacementFacts(
            order_id=f"row-{n}", buyer_id=record[m.buyer_id].strip(), amount=amount,
            currency=m.currency, lines=(PlacedLine("item", 1, amount),), shipping_address={},
            placed_at=placed_at, device_id=_optional(record, m.device_id),
            ip=_optional(record, m.ip))
        return HistoryRow(n, facts, _time(created) if created else None,
                          int(label) if label is not None else None)
    except (ValueError, InvalidOperation) as exc:
        raise HistoryFormatError(f"row {n}: unreadable value: {exc}") from exc


def read_history(path: str | Path, mapping: ColumnMapping = FRAUD_ECOMMERCE) -> list[HistoryRow]:
    """All rows of the file, stably sorted by purchase time (ties keep file order)."""
    with open_text(path) as handle:
        reader = csv.DictReader(handle)
        header = set(reader.fieldnames or ())
        missing = [c for c in (mapping.buyer_id, mapping.placed_at, mapping.amount)
                   if c not in header]
        if missing:
            raise HistoryFormatError(f"{path}: missing required column(s): {', '.join(missing)}")
        rows = [_to_row(n, record, mapping) for n, record in enumerate(reader, start=1)]
    rows.sort(key=lambda r: r.facts.placed_at)
    return rows


def iter_labelled(rows: list[HistoryRow]) -> Iterator[HistoryRow]:
    """Only the rows that carry a label."""
    return (r for r in rows if r.label is not None)
