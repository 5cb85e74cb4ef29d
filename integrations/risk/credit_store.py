"""Buyer credit in the database: the score on `buyers.credit_score`, every change appended to
`risk_credit_events` (before, after, reason, who) in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from integrations.db.risk_counters import count_disputes
from integrations.db.schema import BuyerRow
from integrations.db.schema_risk import CreditEventRow
from integrations.db.sql import Sql
from statemachine.errors import NotFound
from statemachine.risk.credit import CreditEvent, CreditEventKind, apply_credit_event
from statemachine.risk.ruleset import CreditPolicy

BUYERS, CREDIT = BuyerRow.__table__, CreditEventRow.__table__
INSERT_SQL = ("INSERT INTO risk_credit_events (buyer_id, kind, order_id, note, before, after, "
              "actor, at) VALUES (:buyer_id, :kind, :order_id, :note, :before, :after, :actor, "
              ":at)")


def record_credit_event(conn: Connection, buyer_id: str, kind: CreditEventKind, *,
                        order_id: int | None, note: str, actor: str, at: datetime,
                        policy: CreditPolicy) -> dict[str, Any]:
    """Apply one event to the buyer's score (row locked on PostgreSQL); returns the history row.
    Plain SQL on the DBAPI cursor: the sweep's bulk expiry calls this once per expired order.

    `FOR NO KEY UPDATE`, not `FOR UPDATE`: the buyer's key does not change, and the weaker lock
    does not conflict with the key-share lock a concurrent placement's foreign key takes on the
    same buyer (which would otherwise deadlock a cancel against a placement of that buyer)."""
    sql = Sql(conn)
    lock = "" if sql.sqlite else " FOR NO KEY UPDATE"
    found = sql.one(f"SELECT credit_score FROM buyers WHERE id = :b{lock}", {"b": buyer_id})
    if found is None:
        raise NotFound("buyer", buyer_id)
    change = apply_credit_event(found[0], CreditEvent(kind, at, str(order_id), note), policy)
    sql.run("UPDATE buyers SET credit_score = :after WHERE id = :b",
            {"after": change.after, "b": buyer_id})
    row = {"buyer_id": buyer_id, "kind": kind.value, "order_id": order_id, "note": note,
           "before": change.before, "after": change.after, "actor": actor, "at": at}
    sql.run(INSERT_SQL, row)
    count_disputes(sql, [(buyer_id, kind)])
    return row


def record_credit_events(conn: Connection, events: list[tuple[Any, ...]], *,
                         policy: CreditPolicy) -> None:
    """Bulk `record_credit_event`: events are (buyer, kind, order_id, note, actor, at), applied
    in order; one read and one write per buyer, one insert for all the history rows. Buyers
    are locked in id order (two sweepers expiring orders of the same buyers never deadlock)."""
    sql = Sql(conn)
    lock = "" if sql.sqlite else " FOR NO KEY UPDATE"
    scores: dict[str, int] = {}
    for buyer in sorted({event[0] for event in events}):
        found = sql.one(f"SELECT credit_score FROM buyers WHERE id = :b{lock}", {"b": buyer})
        if found is None:
            raise NotFound("buyer", buyer)
        scores[buyer] = found[0]
    rows = []
    for buyer, kind, order_id, note, actor, at in events:
        change = apply_credit_event(scores[buyer], CreditEvent(kind, at, str(order_id), note),
                                    policy)
        scores[buyer] = change.after
        rows.append({"buyer_id": buyer, "kind": kind.value, "order_id": order_id, "note": note,
                     "before": change.before, "after": change.after, "actor": actor, "at": at})
    sql.many("UPDATE buyers SET credit_score = :after WHERE id = :b",
             [{"after": score, "b": buyer} for buyer, score in scores.items()])
    sql.many(INSERT_SQL, rows)
    count_disputes(sql, [(buyer, kind) for buyer, kind, *_ in events])


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
