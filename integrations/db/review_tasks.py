"""The review queue's rows: a task opened when an order enters under_review and closed (who,
what) when it leaves, in the transition's transaction (`integrations.risk.hooks.review_task_hook`
decides when); reads of the queue (tasks joined with their orders and escalations) and of a
reviewer's dossier (the buyer's other orders; the buyer row is db/buyers.py). The queue's use
cases (list, decide) are `integrations.service.review_queue`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, insert, select, update

from integrations.db.schema import OrderRow, OutboxRow
from integrations.db.schema_risk import ReviewTaskRow

TASKS, ORDERS, OUTBOX = ReviewTaskRow.__table__, OrderRow.__table__, OutboxRow.__table__


def open_task(connection: Connection, order_id: int, opened_at: datetime, due_at: datetime,
              reasons: list[Any], score: float) -> None:
    """A review task for the order, with the risk decision's reasons and score."""
    connection.execute(insert(TASKS).values(order_id=order_id, opened_at=opened_at,
                                            due_at=due_at, reasons=reasons, score=score))


def close_task(connection: Connection, order_id: int, at: datetime, by: str, decision: str,
               note: str | None) -> None:
    """The order's open review task decided: when, by whom, how (the trigger), why."""
    connection.execute(update(TASKS).where(
        TASKS.c.order_id == order_id, TASKS.c.decided_at.is_(None)).values(
        decided_at=at, decided_by=by, decision=decision, note=note))


def review_tasks(connection: Connection, escalation_event: str,
                 include_decided: bool) -> list[dict[str, Any]]:
    """Open tasks (or all) with the order's buyer, total, currency, state and attributes (an
    address corrected while it waits is there), and when the order was first escalated
    (`escalation_event` in the outbox; None if never).
    Each task's escalation is looked up by its order in the outbox's escalation index
    (ix_outbox_review_overdue, partial: the event is written into the SQL so that the
    planner can use it); grouping the whole outbox read every event ever published."""
    event = bindparam("event", escalation_event, literal_execute=True)
    escalated = (select(func.min(OUTBOX.c.created_at))
                 .where(OUTBOX.c.event == event, OUTBOX.c.order_id == TASKS.c.order_id)
                 .scalar_subquery())
    query = (select(TASKS, ORDERS.c.buyer_id, ORDERS.c.total, ORDERS.c.currency,
                    ORDERS.c.state, ORDERS.c.attrs, escalated.label("escalated_at"))
             .join(ORDERS, ORDERS.c.id == TASKS.c.order_id))
    if not include_decided:
        query = query.where(TASKS.c.decided_at.is_(None))
    return [dict(r) for r in connection.execute(query).mappings()]


def decision_of(connection: Connection, order_id: int) -> Row | None:
    """Who decided the order's review task and how (None: no task)."""
    return connection.execute(select(TASKS.c.decided_by, TASKS.c.decision).where(
        TASKS.c.order_id == order_id)).first()


def other_orders(connection: Connection, buyer_id: str, order_id: int, limit: int) -> list[Row]:
    """The buyer's latest orders other than `order_id` (id, state, total, currency,
    created_at)."""
    return list(connection.execute(
        select(ORDERS.c.id, ORDERS.c.state, ORDERS.c.total, ORDERS.c.currency,
               ORDERS.c.created_at)
        .where(ORDERS.c.buyer_id == buyer_id, ORDERS.c.id != order_id)
        .order_by(ORDERS.c.id.desc()).limit(limit)))
