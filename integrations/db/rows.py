"""Statements generated from the typed schema: rows ⇄ aggregates for the lifecycle tables
(`RowMap`), and one declared `Insert` per table the other stores write.

The column list, the SELECT, the version-checked UPDATE and the INSERT of each aggregate are
derived from its `…Row` class in schema.py and the aggregate's dataclass fields, so adding a
column means adding it in two declarations (the row, the aggregate) and nowhere else.

The two conversions are generated as small Python functions when the module loads (the way
`dataclasses` writes `__init__`): a row becomes an aggregate by position, converting by column
type (timestamps to aware UTC, JSON documents) and by field type (StrEnum states and kinds);
an aggregate's fields become bound column values the other way round. Measured here, the
generated loader costs ~3 µs per order against ~11 µs for a loop over per-column converters,
and a state change reads one aggregate and writes one.

The other tables a store writes (holds, risk facts, webhook deliveries, …) each get one
`Insert`: the columns it names, its INSERT or upsert, the check that a row names exactly those
columns, and the write on the unit of work's `Sql`. A column added to such a table is then
either written or refused by name before the driver sees the row, in one place per table.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import JSON, Table, UniqueConstraint

from integrations.db import row_changes
from integrations.db.row_changes import UNREAD
from integrations.db.schema import CaseRow, OrderLineRow, OrderRow, ShipmentRow, UtcDateTime
from integrations.db.schema_fulfil import ClaimRow
from integrations.db.schema_money import DisputeRow
from integrations.db.sql import Sql, to_json
from statemachine.aftersales import AfterSalesCase, CaseLine
from statemachine.claim import Claim
from statemachine.dispute import Dispute
from statemachine.order_aggregate import Order, OrderLine
from statemachine.shipment import Shipment

A = TypeVar("A")


class RowMap(Generic[A]):
    """How one aggregate class is stored in one table."""

    def __init__(self, table: Table, cls: type[A], *, mutable: Sequence[str],
                 decode: Mapping[str, Callable[[Any], Any]] | None = None,
                 encode: Mapping[str, Callable[[Any], Any]] | None = None,
                 lazy: Sequence[str] = (), track: bool = False):
        fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        hints = typing.get_type_hints(cls)
        self.table, self.cls = table, cls
        self.columns = tuple(c.name for c in table.columns if c.name in fields)
        self.mutable = tuple(mutable)
        self.stamped = stamped = "updated_at" in table.c
        self.select = select_sql(table, self.columns)
        self._updates: dict[tuple[str, ...], str] = {}
        if "version" in table.c:  # an aggregate: version-checked, stamped
            self.update = self.update_of(self.mutable)
        else:  # a part of one (order lines), written under its aggregate's version
            self.update = update_sql(table, self.mutable,
                                     where=[c.name for c in table.primary_key.columns])
        parent = [c.name for c in table.primary_key.columns if c.name not in fields]
        self.insert = insert_sql(table, [*parent, *(c for c in self.columns if c != "id"),
                                         *(["updated_at"] if stamped else [])])
        storage = {name: _storage(table.c[name], hints[name]) for name in self.columns}
        lazy = frozenset(lazy)
        if any(storage[name][0] != "json" or name in (encode or {}) for name in lazy):
            raise ValueError(f"{table.name}: only plain JSON columns can be read lazily")
        for name in lazy:  # the class must read the field from its cell (StoredOrder)
            if not isinstance(getattr(cls, name, None), property):
                raise ValueError(f"{cls.__name__}.{name} is not read on first use")
        self.tracked = track
        self.load: Callable[..., A] = _loader(cls, self.columns, storage, decode or {}, lazy,
                                              self.mutable if track else ())
        self.changes: Callable[[A, Callable[[Any], Any]], dict[str, Any]] = _binder(
            self.mutable, storage, encode or {}, lazy)
        self.changed: Callable[[A, Callable[[Any], Any]], dict[str, Any] | None] = (
            _changed(self.mutable, storage, encode or {}, lazy) if track
            else lambda agg, time: None)
        binds_all = _binder([c for c in self.columns if c != "id"], storage, encode or {}, lazy)
        self.values: Callable[[A, Callable[[Any], Any]], dict[str, Any]] = (
            (lambda agg, time: {**(row := binds_all(agg, time)), "updated_at": row["created_at"]})
            if stamped else binds_all)
        """`load(sql, row, **extra)` → aggregate; `changes(agg, time)` → the UPDATE's bound SET
        values, every mutable column; `changed(agg, time)` → those of the columns `agg`
        changed since it was read (None: not tracked, write `changes`; row_changes.py);
        `values(agg, time)` → the INSERT's. `time` binds a timestamp for this store."""

    def update_of(self, names: Sequence[str]) -> str:
        """The version-checked UPDATE setting `names` (in `mutable` order), the version and
        the stamp; one text per set of columns, built once."""
        key = tuple(names)
        text = self._updates.get(key)
        if text is None:
            text = self._updates[key] = update_sql(
                self.table, [*key, "version", *(["updated_at"] if self.stamped else [])],
                where=("id", "version"), params={"version": "new_version", "updated_at": "at"})
        return text

    def wrote(self, agg: A, values: dict[str, Any]) -> None:
        """The row of `agg` now holds `values` (bound): what its next `changed` compares with."""
        if self.tracked:
            row_changes.wrote(agg, values)


def select_sql(table: Table, columns: Sequence[str], where: Sequence[str] = ()) -> str:
    """`SELECT a, b FROM t [WHERE k = :k AND …]`; every name must be a column of `table`."""
    _check(table, [*columns, *where])
    return f"SELECT {', '.join(columns)} FROM {table.name}" + _where(where)


def insert_sql(table: Table, columns: Sequence[str]) -> str:
    """`INSERT INTO t (a, b) VALUES (:a, :b)`."""
    _check(table, columns)
    return (f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
            f"({', '.join(':' + c for c in columns)})")


def upsert_sql(table: Table, columns: Sequence[str], key: Sequence[str],
               update: Sequence[str] = ()) -> str:
    """`insert_sql` then `ON CONFLICT (key) DO NOTHING`, or `DO UPDATE SET c = excluded.c, …`
    for the columns in `update` (a repeat's values win); `key` must be the table's primary key
    or one of its unique constraints (the conflict target both stores require)."""
    _check(table, [*key, *update])
    if tuple(key) not in _unique_keys(table):
        raise ValueError(f"{table.name}: {list(key)} is not a unique key")
    action = ("DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in update) if update
              else "DO NOTHING")
    return f"{insert_sql(table, columns)} ON CONFLICT ({', '.join(key)}) {action}"


def _unique_keys(table: Table) -> set[tuple[str, ...]]:
    keys = {tuple(c.name for c in table.primary_key.columns)}
    keys |= {tuple(c.name for c in u.columns) for u in table.constraints
             if isinstance(u, UniqueConstraint)}
    return keys | {tuple(c.name for c in i.columns) for i in table.indexes if i.unique}


def written(table: Table, *, but: Sequence[str] = ("id",)) -> tuple[str, ...]:
    """The columns an INSERT into `table` names: all of them, in table order, but those in
    `but` (left to the database or written later; each must be a column)."""
    _check(table, but)
    return tuple(c.name for c in table.columns if c.name not in but)


def check_row(table: Table, columns: frozenset[str], values: Mapping[str, Any]) -> None:
    """Refuse values that do not name exactly `columns` (ValueError naming the difference): a
    column added to the table and not written fails here, not in the driver."""
    if values.keys() != columns:
        raise ValueError(f"{table.name}: no value for {sorted(columns - values.keys())}, "
                         f"no column {sorted(values.keys() - columns)}")


class Insert:
    """The INSERT a store writes into one table, declared once: the columns it names (all but
    those in `but`, as `written`), its statement (`insert_sql`, or `upsert_sql` when a conflict
    `key` is given, with `update` for DO UPDATE), and the check that a row names exactly
    those columns, made before any row reaches the driver."""

    def __init__(self, table: Table, *, but: Sequence[str] = ("id",), key: Sequence[str] = (),
                 update: Sequence[str] = ()):
        if update and not key:
            raise ValueError(f"{table.name}: DO UPDATE needs a conflict key")
        self.table = table
        self.columns = written(table, but=but)
        self.sql = (upsert_sql(table, self.columns, key, update) if key
                    else insert_sql(table, self.columns))
        self._names = frozenset(self.columns)

    def check(self, row: Mapping[str, Any]) -> None:
        """Refuse a row that does not name exactly `columns` (ValueError naming the table, the
        columns without a value and the names that are no column: see `check_row`)."""
        check_row(self.table, self._names, row)

    def write(self, sql: Sql, rows: Sequence[Mapping[str, Any]]) -> int:
        """Check every row, then write them in one statement (nothing for none, so a wrong row
        leaves nothing written); returns the row count the driver reports (an upsert's DO
        NOTHING counts 0)."""
        for row in rows:
            self.check(row)
        if len(rows) == 1:  # a plain execute: cheaper than executemany for one row
            return int(sql.run(self.sql, rows[0]).rowcount)
        return sql.many(self.sql, rows) if rows else 0

    def later(self, sql: Sql, rows: Sequence[Mapping[str, Any]]) -> None:
        """`write` when nobody reads the count: checked now, sent with the next statement
        that needs an answer (PostgreSQL; at once on SQLite; sql.py `Sql.later`)."""
        for row in rows:
            self.check(row)
        sql.later(self.sql, rows, bind=True)

    def write_row(self, sql: Sql, row: Mapping[str, Any]) -> int:
        """`write` for one row: 1 written, 0 if an upsert's DO NOTHING met its key."""
        return self.write(sql, (row,))

    def write_id(self, sql: Sql, row: Mapping[str, Any]) -> int:
        """Check one row, write it, and return the id the database gave it."""
        self.check(row)
        return sql.insert_id(self.sql, row)


def nulls_filled(table: Table, columns: Sequence[str], values: Mapping[str, Any]
                 ) -> dict[str, Any]:
    """`values` with NULL for the nullable `columns` it leaves out (optional fields, such as a
    provider's reference); refuses (ValueError naming them) a name that is not among `columns`
    and a NOT NULL column left out, before the driver would."""
    missing = [c for c in columns if c not in values and not table.c[c].nullable]
    unknown = sorted(values.keys() - set(columns))
    if missing or unknown:
        raise ValueError(f"{table.name}: no value for {missing}, no column {unknown}")
    return {c: values.get(c) for c in columns}


def update_sql(table: Table, sets: Sequence[str], where: Sequence[str],
               params: Mapping[str, str] | None = None) -> str:
    """`UPDATE t SET a = :a, … WHERE k = :k AND …`; `params` renames a SET column's
    parameter (`version = :new_version`)."""
    _check(table, [*sets, *where])
    renamed = params or {}
    assigns = ", ".join(f"{c} = :{renamed.get(c, c)}" for c in sets)
    return f"UPDATE {table.name} SET {assigns}" + _where(where)


def _where(keys: Sequence[str]) -> str:
    return " WHERE " + " AND ".join(f"{k} = :{k}" for k in keys) if keys else ""


def _check(table: Table, names: Sequence[str]) -> None:
    unknown = [n for n in names if n not in table.c]
    if unknown:
        raise ValueError(f"{table.name}: no column {unknown}")


def row_loader(table: Table, cls: type[A], columns: Sequence[str] | None = None
               ) -> Callable[..., A]:
    """`load(sql, row, **extra)` → `cls` from a SELECT of `columns` (default: `cls`'s fields,
    a dataclass or NamedTuple), converted by column type as RowMap's loader does."""
    names = tuple(columns if columns is not None else _fields(cls))
    _check(table, names)
    hints = typing.get_type_hints(cls)
    storage = {name: _storage(table.c[name], hints[name]) for name in names}
    return _loader(cls, names, storage, {})


def _fields(cls: type) -> tuple[str, ...]:
    if dataclasses.is_dataclass(cls):
        return tuple(f.name for f in dataclasses.fields(cls))
    return tuple(cls._fields)  # type: ignore[attr-defined] - a NamedTuple


def _storage(column: Any, hint: Any) -> tuple[str, type[enum.Enum] | None]:
    """How a column is kept: a timestamp, a JSON document, an enum's value, or as is."""
    if isinstance(column.type, UtcDateTime):
        return "time", None
    if isinstance(column.type, JSON):
        return "json", None
    candidates = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    kind = next((c for c in candidates if isinstance(c, type) and issubclass(c, enum.Enum)), None)
    return ("enum", kind) if kind is not None else ("plain", None)


def _loader(cls: type, columns: Sequence[str], storage: Mapping[str, tuple[str, Any]],
            decode: Mapping[str, Callable[[Any], Any]], lazy: frozenset[str] = frozenset(),
            tracked: Sequence[str] = ()) -> Callable[..., Any]:
    """`def load(sql, row, **extra): return Cls(a=row[0], b=E(row[1]), …, **extra)`; a `lazy`
    column's cell is kept for `cls` to decode on first read (`StoredOrder.attrs`), and the
    `tracked` columns' cells are kept as the aggregate's `_stored` (row_changes.py)."""
    env: dict[str, Any] = {"cls": cls}
    args, after = [], []
    for i, name in enumerate(columns):
        how, kind = storage[name]
        cell = f"row[{i}]"
        if name in lazy:  # set by the dataclass's default, then undone: read on first use
            after += [f"agg.{row_changes.value_name(name)} = UNREAD",
                      f"agg.{row_changes.raw_name(name)} = {cell}"]
            env["UNREAD"] = row_changes.UNREAD
        elif name in decode:
            env[f"d_{name}"] = decode[name]
            args.append(f"{name}=d_{name}(sql.doc({cell}))")
        elif how == "time":
            args.append(f"{name}=sql.when({cell})")
        elif how == "json":
            args.append(f"{name}=sql.doc({cell})")
        elif how == "enum":
            env[f"e_{name}"] = kind
            args.append(f"{name}=None if {cell} is None else e_{name}({cell})")
        else:
            args.append(f"{name}={cell}")
    stored = ", ".join(f"{name!r}: row[{columns.index(name)}]" for name in tracked
                       if name not in lazy)
    if tracked:
        after.append(f"agg.{row_changes.STORED} = {{{stored}}}")
    if not after:
        return _compile("load", "sql, row, **extra",
                        f"return cls({', '.join(args)}, **extra)", env)
    body = "\n    ".join([f"agg = cls({', '.join(args)}, **extra)", *after, "return agg"])
    return _compile("load", "sql, row, **extra", body, env)


def _bound(value: str, name: str, storage: Mapping[str, tuple[str, Any]],
           encode: Mapping[str, Callable[[Any], Any]], env: dict[str, Any]) -> str:
    """The expression binding `value` (an expression for field `name`) as its column keeps it."""
    how, _ = storage[name]
    if name in encode:
        env[f"c_{name}"] = encode[name]
        value = f"c_{name}({value})"
    if how == "time":
        return f"(None if (v := {value}) is None else time(v))"
    if how == "json":
        return f"(None if (v := {value}) is None else to_json(v))"
    if how == "enum":
        return f"(None if (v := {value}) is None else v.value)"
    return value


def _binder(names: Sequence[str], storage: Mapping[str, tuple[str, Any]],
            encode: Mapping[str, Callable[[Any], Any]], lazy: frozenset[str] = frozenset()
            ) -> Callable[..., dict[str, Any]]:
    """`def bind(agg, time): return {"a": agg.a, "b": time(agg.b), "c": to_json(agg.c), …}`;
    a `lazy` document never read is bound from its stored cell, not decoded."""
    env: dict[str, Any] = {"to_json": to_json, "bound_raw": row_changes.bound_raw,
                           "UNREAD": row_changes.UNREAD}
    items = []
    for name in names:
        value = _bound(f"agg.{name}", name, storage, encode, env)
        if name in lazy:
            value = (f"(bound_raw(agg.{row_changes.raw_name(name)}) if getattr(agg, "
                     f"{row_changes.value_name(name)!r}, None) is UNREAD else {value})")
        items.append(f"{name!r}: {value}")
    return _compile("bind", "agg, time", f"return {{{', '.join(items)}}}", env)


def _changed(names: Sequence[str], storage: Mapping[str, tuple[str, Any]],
             encode: Mapping[str, Callable[[Any], Any]], lazy: frozenset[str]
             ) -> Callable[..., dict[str, Any] | None]:
    """`def changed(agg, time)`: see row_changes.changed_source."""
    env: dict[str, Any] = {"to_json": to_json, "UNREAD": row_changes.UNREAD}
    how = {name: _bound(f"agg.{name}", name, storage, encode, env) for name in names}
    return _compile("changed", "agg, time",
                    row_changes.changed_source(list(names), how, set(lazy)), env)


def _compile(name: str, params: str, body: str, env: dict[str, Any]) -> Callable[..., Any]:
    namespace: dict[str, Any] = {}
    exec(f"def {name}({params}):\n    {body}\n", env, namespace)  # noqa: S102 - generated here
    return namespace[name]


def _case_lines(doc: Any) -> tuple[CaseLine, ...]:
    return tuple(CaseLine(ln["line_no"], ln["quantity"], ln["amount"]) for ln in doc)


def _case_lines_json(lines: tuple[CaseLine, ...]) -> list[dict[str, int]]:
    return [{"line_no": ln.line_no, "quantity": ln.quantity, "amount": ln.amount} for ln in lines]


class StoredOrder(Order):
    """An order as read from the store: its `attrs` document (addresses, risk, ~0.5–1 KB) is
    decoded on first read — most steps never read it, and the writer then leaves it out of
    its UPDATE (row_changes.py). A property, so an assignment is seen too: a document
    replaced whole is written, as one changed in place is. (Its `__dict__` is never asked
    for: on CPython 3.11 an object whose `__dict__` was asked for keeps a real dict, and every
    attribute read of it then costs ~5×.)"""

    @property  # type: ignore[override]
    def attrs(self) -> dict[str, Any]:
        value = self._attrs
        if value is UNREAD:
            cell = self._attrs_raw
            value = self._attrs = (orjson.loads(cell) if isinstance(cell, str) else cell) or {}
        return value

    @attrs.setter
    def attrs(self, value: dict[str, Any]) -> None:
        self._attrs = value


ORDERS = RowMap(OrderRow.__table__, StoredOrder, mutable=(
    "state", "paid", "refunded", "payment_ref", "hold_expires_at", "attrs"),
    lazy=("attrs",), track=True)
LINES = RowMap(OrderLineRow.__table__, OrderLine, mutable=("refunded_quantity",))
SHIPMENTS = RowMap(ShipmentRow.__table__, Shipment, mutable=(
    "state", "last_scan_at", "stall_reason", "reached"))
CASES = RowMap(CaseRow.__table__, AfterSalesCase, mutable=("state", "refunded", "inspection"),
               decode={"lines": _case_lines}, encode={"lines": _case_lines_json})
CLAIMS = RowMap(ClaimRow.__table__, Claim, mutable=("state", "claimed", "recovered"))
DISPUTES = RowMap(DisputeRow.__table__, Dispute, mutable=(
    "state", "evidence", "booked", "unbooked", "kind", "reason", "evidence_due_by",
    "amount"))  # reopen, escalate: the chargeback an inquiry became

BY_ENTITY: dict[str, RowMap[Any]] = {"order": ORDERS, "shipment": SHIPMENTS, "case": CASES,
                                      "claim": CLAIMS, "dispute": DISPUTES}
