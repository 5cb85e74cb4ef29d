"""Buyer credit events: each moves the score on `buyers.credit_score` by the credit policy and
is appended to `risk_credit_events` (before, after, reason, who) in the caller's transaction.
The rows are read and written by db/risk_credit.py (DBAPI cursor: the sweep's bulk expiry
records one event per expired order); the disputes counter by db/risk_counters.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.db import risk_credit
from integrations.db.risk_counters import count_disputes
from integrations.db.sql import Sql
from statemachine.risk.credit import CreditEvent, CreditEventKind, apply_credit_event
from statemachine.risk.ruleset import CreditPolicy


def record_credit_event(conn: Any, buyer_id: str, kind: CreditEventKind, *,
                        order_id: int | None, note: str, actor: str, at: datetime,
                        policy: CreditPolicy) -> dict[str, Any]:
    """Apply one event to the buyer's score (row locked on PostgreSQL, NotFound for an unknown
    buyer); returns the history row."""
    sql = Sql(conn)
    before = risk_credit.locked_score(sql, buyer_id)
    change = apply_credit_event(before, CreditEvent(kind, at, str(order_id), note), policy)
    risk_credit.set_score(sql, buyer_id, change.after)
    row = {"buyer_id": buyer_id, "kind": kind.value, "order_id": order_id, "note": note,
           "before": change.before, "after": change.after, "actor": actor, "at": at}
    risk_credit.add_event(sql, row)
    count_disputes(sql, [(buyer_id, kind)])
    return row


def record_credit_events(conn: Any, events: list[tuple[Any, ...]], *,
                         policy: CreditPolicy) -> None:
    """Bulk `record_credit_event`: events are (buyer, kind, order_id, note, actor, at), applied
    in order; one read and one write per buyer (locked in id order), one insert for all the
    history rows."""
    sql = Sql(conn)
    scores = risk_credit.locked_scores(sql, (event[0] for event in events))
    rows = []
    for buyer, kind, order_id, note, actor, at in events:
        change = apply_credit_event(scores[buyer], CreditEvent(kind, at, str(order_id), note),
                                    policy)
        scores[buyer] = change.after
        rows.append({"buyer_id": buyer, "kind": kind.value, "order_id": order_id, "note": note,
                     "before": change.before, "after": change.after, "actor": actor, "at": at})
    risk_credit.set_scores(sql, scores)
    risk_credit.add_events(sql, rows)
    count_disputes(sql, [(buyer, kind) for buyer, kind, *_ in events])
