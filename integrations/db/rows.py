"""Rows ⇄ aggregates, generated from the typed schema: one mapping per lifecycle table.

The column list, the SELECT, the version-checked UPDATE and the INSERT of each aggregate are
derived from its `…Row` class in schema.py and the aggregate's dataclass fields, so adding a
column means adding it in two declarations (the row, the aggregate) and nowhere else. Reading
converts by column type (timestamps to aware UTC, JSON documents) and by field type (StrEnum
states and kinds); writing does the reverse. Statements run on the DBAPI cursor (`Sql`).
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import JSON, Table

from integrations.db.schema import CaseRow, OrderLineRow, OrderRow, ShipmentRow, UtcDateTime
from integrations.db.schema_fulfil import ClaimRow
from integrations.db.sql import Sql
from statemachine.aftersales import AfterSalesCase, CaseLine
from statemachine.claim import Claim
from statemachine.order import Order, OrderLine
from statemachine.shipment import Shipment

A = TypeVar("A")
Decode = Callable[[Sql, Any], Any]


class RowMap(Generic[A]):
    """How one aggregate class is stored in one table."""

    def __init__(self, table: Table, cls: type[A], *, mutable: Sequence[str],
                 decode: Mapping[str, Decode] | None = None,
                 encode: Mapping[str, Callable[[Any], Any]] | None = None):
        fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        hints = typing.get_type_hints(cls)
        self.table, self.cls = table, cls
        self.columns = tuple(c.name for c in table.columns if c.name in fields)
        self._decoders = [(name, (decode or {}).get(name) or _decoder(table.c[name], hints[name]))
                          for name in self.columns]
        self._encode = dict(encode or {})
        self.mutable = tuple(mutable)
        stamped = "updated_at" in table.c
        self.select = f"SELECT {', '.join(self.columns)} FROM {table.name}"
        sets = ", ".join(f"{m} = :{m}" for m in self.mutable)
        self.update = (f"UPDATE {table.name} SET {sets}, version = :new_version"
                       + (", updated_at = :at" if stamped else "")
                       + " WHERE id = :id AND version = :version")
        inserted = [c for c in self.columns if c != "id"] + (["updated_at"] if stamped else [])
        self._inserted = inserted
        self.insert = (f"INSERT INTO {table.name} ({', '.join(inserted)}) VALUES "
                       f"({', '.join(':' + c for c in inserted)})")

    def load(self, sql: Sql, row: Sequence[Any], **extra: Any) -> A:
        """One aggregate from a row selected with `self.select`."""
        values = {name: decode(sql, value)
                  for (name, decode), value in zip(self._decoders, row, strict=True)}
        return self.cls(**values, **extra)

    def changes(self, aggregate: A) -> dict[str, Any]:
        """The mutable fields as column values (the UPDATE's SET part)."""
        return {name: self._value(name, getattr(aggregate, name)) for name in self.mutable}

    def values(self, aggregate: A) -> dict[str, Any]:
        """Every stored field as column values (the INSERT)."""
        values = {name: self._value(name, getattr(aggregate, name))
                  for name in self.columns if name != "id"}
        if "updated_at" in self._inserted:
            values["updated_at"] = values["created_at"]
        return values

    def _value(self, name: str, value: Any) -> Any:
        encode = self._encode.get(name)
        if encode is not None:
            return encode(value)
        return value.value if isinstance(value, enum.Enum) else value


def _decoder(column: Any, hint: Any) -> Decode:
    """Convert by column type (timestamps, JSON) or by the field's enum type."""
    if isinstance(column.type, UtcDateTime):
        return lambda sql, v: sql.when(v)
    if isinstance(column.type, JSON):
        return lambda sql, v: sql.doc(v)
    enum_type = _enum_in(hint)
    if enum_type is not None:
        return lambda sql, v: None if v is None else enum_type(v)
    return lambda sql, v: v


def _enum_in(hint: Any) -> type[enum.Enum] | None:
    """`State`, `State | None` → State; anything else → None."""
    candidates = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    return next((c for c in candidates if isinstance(c, type) and issubclass(c, enum.Enum)), None)


def _case_lines(sql: Sql, value: Any) -> tuple[CaseLine, ...]:
    return tuple(CaseLine(ln["line_no"], ln["quantity"], ln["amount"]) for ln in sql.doc(value))


def _case_lines_json(lines: tuple[CaseLine, ...]) -> list[dict[str, int]]:
    return [{"line_no": ln.line_no, "quantity": ln.quantity, "amount": ln.amount} for ln in lines]


ORDERS = RowMap(OrderRow.__table__, Order, mutable=(
    "state", "paid", "refunded", "payment_ref", "hold_expires_at", "attrs"),
    decode={"attrs": lambda sql, v: sql.doc(v) or {}})
LINES = RowMap(OrderLineRow.__table__, OrderLine, mutable=("refunded_quantity",))
SHIPMENTS = RowMap(ShipmentRow.__table__, Shipment, mutable=(
    "state", "last_scan_at", "stall_reason", "reached"))
CASES = RowMap(CaseRow.__table__, AfterSalesCase, mutable=("state", "refunded", "inspection"),
               decode={"lines": _case_lines}, encode={"lines": _case_lines_json})
CLAIMS = RowMap(ClaimRow.__table__, Claim, mutable=("state", "claimed", "recovered"))

BY_ENTITY: dict[str, RowMap[Any]] = {"order": ORDERS, "shipment": SHIPMENTS, "case": CASES,
                                      "claim": CLAIMS}
