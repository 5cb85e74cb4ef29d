"""What a driver's error means, for the layers above db/ (they import no driver)."""

from __future__ import annotations

DRIVERS = ("sqlalchemy", "psycopg", "sqlite3")


def is_integrity_error(error: BaseException) -> bool:
    """A unique key (or another constraint) refused the row: SQLAlchemy's IntegrityError, or
    the DB-API's own (psycopg, sqlite3) when it was raised below SQLAlchemy."""
    return any(cls.__name__ == "IntegrityError" and cls.__module__.split(".")[0] in DRIVERS
               for cls in type(error).__mro__)


# a table or column the code names is not in the store: SQLite says so in an OperationalError,
# PostgreSQL with SQLSTATE 42P01 (undefined_table) / 42703 (undefined_column)
_SQLITE_SCHEMA = ("no such table", "no such column", "has no column named")
_PG_SCHEMA = {"42P01", "42703"}


def schema_problem(error: BaseException) -> str | None:
    """The driver's words when `error` says the schema lacks a table or column, else None."""
    seen: BaseException | None = error
    while seen is not None:
        text = str(seen).strip()
        first = text.splitlines()[0][:200] if text else type(seen).__name__
        if getattr(seen, "sqlstate", None) in _PG_SCHEMA:
            return first
        if type(seen).__name__ == "OperationalError" and any(m in text for m in _SQLITE_SCHEMA):
            return first
        seen = getattr(seen, "orig", None) or seen.__cause__
    return None
