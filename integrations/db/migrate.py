"""Schema migrations (alembic), run programmatically so the default path needs no set-up."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from statemachine.errors import SchemaMismatch

MIGRATIONS = Path(__file__).parent / "migrations"
# pg_advisory_xact_lock key serialising schema upgrades ("orderpilot" as 8 ASCII bytes)
UPGRADE_LOCK = int.from_bytes(b"orderpil", "big") >> 1


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@cache
def head_revision() -> str | None:
    """The newest revision of the migrations shipped with this code. Cached: alembic re-reads
    and re-executes every migration file to answer (~15-30 ms), and `ensure_schema` asks at
    every store open — each `OrderPilot(...)`, each CLI command, each worker start."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


@cache
def known_revisions() -> frozenset[str]:
    """Every revision shipped with this code (cached, as `head_revision`)."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return frozenset(r.revision for r in script.walk_revisions())


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> str | None:
    """Bring the schema to the newest revision; returns the revision now in force.

    Several processes may start on an empty store at once (workers of one deployment): the
    upgrade is serialised, and whoever waited finds the schema current and does nothing.
    """
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        _serialise_upgrades(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return current_revision(engine)


def _serialise_upgrades(connection: Connection) -> None:
    """PostgreSQL: a transaction-scoped advisory lock, released at commit (DDL is transactional
    there, so the next process sees the finished schema). SQLite: the engine begins write
    transactions with BEGIN IMMEDIATE, which already excludes every other writer."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK})


def ensure_schema(engine: Engine) -> None:
    """Upgrade only when the database is behind (cheap when it is current); a store upgraded
    by a newer orderpilot (a revision this code does not know) is SchemaMismatch."""
    found = current_revision(engine)
    if found is not None and found not in known_revisions():
        raise mismatch(engine, found, "a revision this orderpilot does not ship")
    if found != head_revision():
        upgrade(engine)


def schema_mismatch(engine: Engine, detail: str) -> SchemaMismatch:
    """The error for a store that lacks a table or column the code uses (`detail`: the
    driver's words), with the revision it is at and what to do about it."""
    try:
        found = current_revision(engine)
    except Exception:  # noqa: BLE001 - reading the revision is only to say more
        return mismatch(engine, None, detail, "could not read its revision")
    return mismatch(engine, found, detail)


def mismatch(engine: Engine, found: str | None, detail: str,
             note: str | None = None) -> SchemaMismatch:
    head = head_revision()
    if found is not None and found not in known_revisions():
        remedy = ("a newer orderpilot upgraded it: run that version "
                  "(`orderpilot db upgrade` cannot go back)")
    elif found == head:
        remedy = ("it is current, so the schema was changed outside orderpilot's migrations: "
                  "restore it from a backup (`orderpilot db upgrade` has nothing to do)")
    else:
        remedy = "run `orderpilot db upgrade`"
    where = engine.url.render_as_string(hide_password=True)
    return SchemaMismatch(where, found, head, detail + (f"; {note}" if note else ""), remedy)
