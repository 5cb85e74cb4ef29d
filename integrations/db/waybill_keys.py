"""A waybill's key in SQL: the column with its ASCII letters in capitals, as
`statemachine.waybills.waybill_key` gives it in Python (a tracking number or a carrier name
compared in any case: `sf-0000050` is SF's SF-0000050).

SQLite's UPPER capitalises ASCII letters only; PostgreSQL's follows the database's locale
(C.UTF-8 capitalises Cyrillic, é, …) unless told COLLATE "C". The two would then disagree with
each other and with Python on which numbers are one, so PostgreSQL is told. The index the
lookups use (`ix_shipments_waybill_key`) is built on this very expression."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class WaybillKey(FunctionElement):
    type = String()
    name = "waybill_key"
    inherit_cache = True


def waybill_key(column: Any) -> WaybillKey:
    """The key of `column` (a tracking number or carrier name column), compared in SQL."""
    return WaybillKey(column)


@compiles(WaybillKey)
def _ascii_upper(element: WaybillKey, compiler: Any, **kw: Any) -> str:
    return f"upper({compiler.process(element.clauses, **kw)})"


@compiles(WaybillKey, "postgresql")
def _ascii_upper_pg(element: WaybillKey, compiler: Any, **kw: Any) -> str:
    # as PostgreSQL shows the index's definition, less its ::text (alembic compares the two)
    return f'upper({compiler.process(element.clauses, **kw)} COLLATE "C")'
