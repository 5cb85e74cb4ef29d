"""Buyer credit in the database: the score on `buyers.credit_score`, every change appended to
`risk_credit_events` (before, after, reason, who) in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from integrations.db.schema import BuyerRow
from integrations.db.schema_risk import CreditEventRow
from statemachine.errors import NotFound
from statemachine.risk.credit import CreditEvent, CreditEventKind, apply_credit_event
from statemachine.risk.ruleset import CreditPolicy

BUYERS, CREDIT = BuyerRow.__table__, CreditEventRow.__table__


def record_credit_event(conn: Connection, buyer_id: str, kind: CreditEventKind, *,
                        order_id: int | None, note: str, actor: str, at: datetime,
                        policy: CreditPolicy) -> dict[str, Any]:
    """Apply one event to the buyer's score (row locked on PostgreSQL); returns the history row."""
    query = select(BUYERS.c.credit_score).where(BUYERS.c.id == buyer_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    current = conn.execute(query).scalar_one_or_none()
    if current is None:
        raise NotFound("buyer", buyer_id)
    change = apply_credit_event(current, CreditEvent(kind, at, str(order_id), note), policy)
    conn.execute(update(BUYERS).where(BUYERS.c.id == buyer_id)
                 .values(credit_score=change.after))
    row = {"buyer_id": buyer_id, "kind": kind.value, "order_id": order_id, "note": note,
           "before": change.before, "after": change.after, "actor": actor, "at": at}
    conn.execute(insert(CREDIT).values(row))
    return row


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
