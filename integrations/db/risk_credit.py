"""Buyer credit rows: the score on `buyers.credit_score` and its history in
`risk_credit_events`, in the caller's transaction. How an event moves the score is
integrations/risk/credit_store.py (the domain's `apply_credit_event`).

The writes are plain SQL on the DBAPI cursor (`Sql`): the sweep's bulk expiry records a credit
event per expired order. A score is read under `FOR NO KEY UPDATE` on PostgreSQL, not
`FOR UPDATE`: the buyer's key does not change, and the weaker lock does not conflict with the
key-share lock a concurrent placement's foreign key takes on the same buyer (which would
otherwise deadlock a cancel against a placement of that buyer).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, select

from integrations.db.rows import Insert
from integrations.db.schema import BuyerRow
from integrations.db.schema_risk import CreditEventRow
from integrations.db.sql import Sql
from statemachine.errors import NotFound

BUYERS, CREDIT = BuyerRow.__table__, CreditEventRow.__table__
EVENT = Insert(CREDIT)  # every column but the id
INSERT_SQL = EVENT.sql
SCORE_SQL = "UPDATE buyers SET credit_score = :after WHERE id = :b"


def locked_score(sql: Sql, buyer_id: str) -> int:
    """The buyer's score, the row locked until commit on PostgreSQL (NotFound: no buyer)."""
    lock = "" if sql.sqlite else " FOR NO KEY UPDATE"
    found = sql.one(f"SELECT credit_score FROM buyers WHERE id = :b{lock}", {"b": buyer_id})
    if found is None:
        raise NotFound("buyer", buyer_id)
    return found[0]


def locked_scores(sql: Sql, buyer_ids: Iterable[str]) -> dict[str, int]:
    """`locked_score` of each buyer, locked in id order (two sweepers expiring orders of the
    same buyers never deadlock)."""
    return {buyer: locked_score(sql, buyer) for buyer in sorted(set(buyer_ids))}


def set_score(sql: Sql, buyer_id: str, score: int) -> None:
    sql.run(SCORE_SQL, {"after": score, "b": buyer_id})


def set_scores(sql: Sql, scores: Mapping[str, int]) -> None:
    """One statement for many buyers' new scores."""
    sql.many(SCORE_SQL, [{"after": score, "b": buyer} for buyer, score in scores.items()])


def add_event(sql: Sql, row: Mapping[str, Any]) -> None:
    """Append one history row; `row` names every column but the id (buyer_id, kind, order_id,
    note, before, after, actor, at), no more (ValueError otherwise)."""
    EVENT.write_row(sql, row)


def add_events(sql: Sql, rows: Sequence[Mapping[str, Any]]) -> None:
    """`add_event` for many rows, one statement."""
    EVENT.write(sql, rows)


def net_events(sql: Sql, buyer_id: str, order_id: int, kind: str, undone: str) -> int:
    """How many `kind` events of the buyer's order stand: those recorded less those `undone`."""
    row = sql.one("SELECT coalesce(sum(CASE WHEN kind = :k THEN 1 ELSE -1 END), 0) "
                  "FROM risk_credit_events WHERE buyer_id = :b AND order_id = :o "
                  "AND kind IN (:k, :u)", {"b": buyer_id, "o": order_id, "k": kind, "u": undone})
    return int(row[0]) if row else 0


def credit_history(conn: Connection, buyer_id: str) -> list[dict[str, Any]]:
    """Every credit change of a buyer, oldest first."""
    rows = conn.execute(select(CREDIT).where(CREDIT.c.buyer_id == buyer_id)
                        .order_by(CREDIT.c.id)).mappings()
    return [dict(r) for r in rows]


def credit_score(conn: Connection, buyer_id: str) -> int:
    """The buyer's current score (NotFound for a buyer who never ordered)."""
    score = conn.execute(select(BUYERS.c.credit_score).where(
        BUYERS.c.id == buyer_id)).scalar_one_or_none()
    if score is None:
        raise NotFound("buyer", buyer_id)
    return int(score)
