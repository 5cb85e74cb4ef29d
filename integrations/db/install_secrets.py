"""Secrets an install generated for itself (install_secrets, migration 0038), read by name."""

from __future__ import annotations

from sqlalchemy import Connection, select

from integrations.db.schema_integrations import InstallSecretRow
from statemachine.errors import NotFound

SECRETS = InstallSecretRow.__table__


def install_secret(connection: Connection, name: str) -> str:
    """The secret kept under `name`; NotFound when the store has none (made by migration 0038:
    a store upgraded by `orderpilot db upgrade` has it). The value is never put in an error."""
    value = connection.execute(select(SECRETS.c.value).where(SECRETS.c.name == name)).scalar()
    if value is None:
        raise NotFound("install secret", name)
    return str(value)
