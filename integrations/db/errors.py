"""What a driver's error means, for the layers above db/ (they import no driver)."""

from __future__ import annotations

DRIVERS = ("sqlalchemy", "psycopg", "sqlite3")


def is_integrity_error(error: BaseException) -> bool:
    """A unique key (or another constraint) refused the row: SQLAlchemy's IntegrityError, or
    the DB-API's own (psycopg, sqlite3) when it was raised below SQLAlchemy."""
    return any(cls.__name__ == "IntegrityError" and cls.__module__.split(".")[0] in DRIVERS
               for cls in type(error).__mro__)
