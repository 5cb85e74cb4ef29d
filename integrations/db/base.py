"""The declarative base and the shared column types of every table (schema*.py build on it).

Kept apart from schema.py so the sub-schemas (schema_connect, schema_fulfil, …) import the base
without importing schema.py, and schema.py imports them without a circle.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

# a primary key that autoincrements on both SQLite (INTEGER) and PostgreSQL (BIGINT identity)
Id = BigInteger().with_variant(Integer(), "sqlite")

# A table looked up only by its (non-integer) primary key, with short rows, is stored in that
# key on SQLite: a rowid table would be two b-trees — the rows under a rowid nothing reads,
# and the key's index every look-up goes through — and each row written a page of both at
# COMMIT (migration 0035, bench/wal_frames.py --webhook). PostgreSQL ignores the option.
KEYED: dict[str, Any] = {"sqlite_with_rowid": False}


class UtcDateTime(TypeDecorator[datetime]):
    """Stores UTC; refuses naive datetimes; always hands back aware UTC datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: orderpilot stores aware UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}
