"""Idempotency keys: the same key applies once; a repeat returns the first result."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.service.context import Tx
from statemachine.errors import InvalidInput


def replay_or_none(tx: Tx, key: str, action: str, target: int | None) -> int | None:
    """The entity number the key already produced, or None if the key is new.

    A key reused for a different action or entity is refused: it would hide a real change.
    """
    prior: dict[str, Any] | None = tx.store.inbox_get(key)
    if prior is None:
        return None
    if prior["action"] != action or (target is not None and prior["target"] != target):
        raise InvalidInput({"idempotency_key": f"{key!r} was already used for "
                                               f"{prior['action']} on #{prior['target']}"})
    return int(prior["target"])


def remember(tx: Tx, key: str, action: str, target: int, at: datetime) -> None:
    tx.store.inbox_put(key, action, {"action": action, "target": target}, at)
