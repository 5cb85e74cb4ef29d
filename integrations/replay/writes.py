"""Row writing for the bulk path: history, outbox and deadline rows, bound once per batch."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.db.repository import HISTORY_COLS, _history_row
from integrations.db.repository import _outbox_row as outbox_row
from integrations.db.sql import Sql
from integrations.db.stock import _in_list as in_list
from integrations.service.context import Tx
from statemachine.lifecycle import Fired
from statemachine.policies import DeadlineKind

HISTORY_INSERT = (f"INSERT INTO transition_history ({HISTORY_COLS}) VALUES (:entity, :entity_id, "
                  ":order_id, :trigger, :from_state, :to_state, :actor, :at, :payload)")
OUTBOX_INSERT = ("INSERT INTO outbox (event, entity, entity_id, order_id, payload, created_at) "
                 "VALUES (:event, :entity, :entity_id, :order_id, :payload, :created_at)")


def clear(tx: Tx, entity: str, ids: list[int], kind: DeadlineKind | None = None) -> None:
    if not ids:
        return
    where, params = in_list("entity_id", ids)
    tx.store.sql.run(f"DELETE FROM deadlines WHERE entity = :entity AND {where}"
                     + (" AND kind = :kind" if kind else ""),
                     {**params, "entity": entity, **({"kind": kind.value} if kind else {})})


def record(tx: Tx, items: list[tuple[Fired, int, int, dict[str, Any]]]) -> None:
    """`Store.record_many` with the rows bound once here (timestamps converted once each)."""
    if not items:
        return
    bind = Binder(tx.store.sql)
    tx.store.sql.many(HISTORY_INSERT, [bind(_history_row(*item[:3]), "at", "payload")
                                       for item in items])
    tx.store.sql.many(OUTBOX_INSERT, [bind(outbox_row(*item), "created_at", "payload")
                                      for item in items])


class Binder:
    """Converts row values the way `Sql` binds them, converting each timestamp only once."""

    def __init__(self, sql: Sql):
        self.sql, self.seen = sql, {}

    def __call__(self, row: dict[str, Any], *keys: str) -> dict[str, Any]:
        """Convert `keys` (default: every value) in place; returns the row."""
        for key in keys or list(row):
            value = row[key]
            if isinstance(value, datetime):
                converted = self.seen.get(value)
                if converted is None:
                    converted = self.seen[value] = self.sql._value(value)
                row[key] = converted
            elif isinstance(value, dict | list):
                row[key] = self.sql._value(value)
        return row


def insert_deadlines(tx: Tx, rows: list[dict[str, Any]]) -> None:
    if rows:
        bind = Binder(tx.store.sql)
        rows = [bind(r, "due_at") for r in rows]
        tx.store.sql.many("INSERT INTO deadlines (kind, entity, entity_id, order_id, due_at) "
                          "VALUES (:kind, :entity, :entity_id, :order_id, :due_at)", rows)
