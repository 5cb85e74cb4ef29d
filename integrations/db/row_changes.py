"""What an aggregate read from the store changed: the writer's UPDATE names only those columns.

A state change used to bind every mutable column of its aggregate again, so the order's `attrs`
document (~0.5–1 KB of addresses and risk reasons, mostly Chinese) was encoded by orjson,
decoded to `str` and encoded to UTF-8 again by the driver at every step, though most steps never
touch it (bench/transition_cost.py counted a `start_picking`). Now, for a `RowMap` that tracks
(rows.py, `ORDERS`):

- loading keeps the stored cells of the mutable columns on the aggregate (`_stored`), and
  `changed(agg, time)` binds the mutable columns and returns those whose bound value differs;
- a JSON column named `lazy` is not decoded when the row is read: the aggregate's class reads
  it on first use (rows.py `StoredOrder.attrs`: the value in `_attrs`, UNREAD until then, the
  cell in `_attrs_raw`). A document never read is unchanged: not decoded, not bound, left out
  of the UPDATE. A document that was read or assigned is written (it may have been changed in
  place; comparing would cost the encoding it saves);
- after a write the writer records what it wrote (`wrote`), so a second write of the aggregate
  in the same unit of work compares with what the row holds by then.

Leaving out a column a step did not change leaves every stored value as it was: the UPDATE is
version-checked, so the row it changes is the row that was read — every write of these tables
goes through the writer, and each one moves the version. An aggregate not read through its
`RowMap` (created in this unit of work, or copied with `dataclasses.replace`) has no `_stored`
and is written whole, as before.
"""

from __future__ import annotations

from typing import Any

from integrations.db.sql import to_json

STORED = "_stored"  # the aggregate's attribute holding its stored mutable cells
UNREAD = object()  # a lazy field's value until it is first read or assigned


def value_name(field: str) -> str:
    """Where an aggregate keeps a lazy field's value (UNREAD until first read or assigned)."""
    return f"_{field}"


def raw_name(field: str) -> str:
    """Where an aggregate keeps a lazy field's stored cell."""
    return f"_{field}_raw"


def bound_raw(cell: Any) -> Any:
    """A JSON cell never decoded, bound again as it was read: SQLite's text as is, a document
    the driver decoded (psycopg) encoded once more."""
    return cell if cell is None or isinstance(cell, str) else to_json(cell)


def changed_source(names: list[str], how: dict[str, str], lazy: set[str]) -> str:
    """The body of `changed(agg, time)`: None for an aggregate without `_stored`, else the
    bound values of the columns that differ from their stored cells (`how[name]`: the
    expression binding the field) and of the lazy documents that were read or assigned."""
    lines = [f"stored = getattr(agg, {STORED!r}, None)",
             "if stored is None:", "    return None", "out = {}"]
    for name in names:
        if name in lazy:
            lines += [f"if getattr(agg, {value_name(name)!r}, None) is not UNREAD:",
                      f"    out[{name!r}] = {how[name]}"]
        else:
            lines += [f"if (b := {how[name]}) != stored[{name!r}]:", f"    out[{name!r}] = b"]
    return "\n    ".join([*lines, "return out"])


def wrote(agg: Any, values: dict[str, Any]) -> None:
    """Record that the row now holds `values` (bound, as `changed` compares them): a later
    write of the aggregate compares with them. An aggregate written whole is tracked from
    then on; a lazy document written stays read (and is written again with the next step)."""
    stored = getattr(agg, STORED, None)
    if stored is None:
        setattr(agg, STORED, dict(values))
    else:
        stored.update(values)
