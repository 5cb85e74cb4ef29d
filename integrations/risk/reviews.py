"""The review queue: held orders with their reasons, SLA and escalation; decisions by a person.

A task is opened by `hooks.review_task_hook` when an order enters `under_review` and closed when
it leaves. The core sweep announces an overdue task once (`orderpilot.order.review_overdue`);
that announcement is the escalation shown here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select

from integrations.db.schema import OrderRow, OutboxRow
from integrations.db.schema_risk import ReviewTaskRow
from integrations.risk.errors import ReviewAlreadyDecided
from integrations.risk.lists_store import blacklist_from_order
from integrations.service import orders
from integrations.service.contention import retrying
from integrations.service.context import Context
from integrations.service.inputs import Reasoned, parse

TASKS, ORDERS, OUTBOX = ReviewTaskRow.__table__, OrderRow.__table__, OutboxRow.__table__
OVERDUE_EVENT = "orderpilot.order.review_overdue"


def list_tasks(ctx: Context, now: datetime, include_decided: bool = False) -> list[dict[str, Any]]:
    """Open tasks (or all), escalated first, then by due time; with overdue / escalated flags."""
    escalated = (select(OUTBOX.c.order_id, func.min(OUTBOX.c.created_at).label("at"))
                 .where(OUTBOX.c.event == OVERDUE_EVENT).group_by(OUTBOX.c.order_id)
                 .subquery())
    query = (select(TASKS, ORDERS.c.buyer_id, ORDERS.c.total, ORDERS.c.currency,
                    ORDERS.c.state, escalated.c.at.label("escalated_at"))
             .join(ORDERS, ORDERS.c.id == TASKS.c.order_id)
             .outerjoin(escalated, and_(escalated.c.order_id == TASKS.c.order_id)))
    if not include_decided:
        query = query.where(TASKS.c.decided_at.is_(None))
    with ctx.tx(readonly=True) as tx:
        rows = [dict(r) for r in tx.connection.execute(query).mappings()]
    for row in rows:
        row["order_id"] = f"o-{row['order_id']}"
        row["overdue"] = row["decided_at"] is None and now >= row["due_at"]
        row["escalated"] = row["escalated_at"] is not None and row["decided_at"] is None
    return sorted(rows, key=lambda r: (not r["escalated"], not r["overdue"], r["due_at"]))


@retrying("the review decision")
def decide(ctx: Context, order_id: int, decision: str, by: str, reason: str | None,
           blacklist: tuple[str, ...] = ()) -> None:
    """Approve or reject a held order as `by`; refuses with ReviewAlreadyDecided otherwise."""
    checked = parse(Reasoned, {"reason": reason}).model_dump(exclude_none=True)
    with ctx.tx() as tx:
        order = tx.store.get_order(order_id, lock=True)  # a concurrent decision commits first
        if order.state.value != "under_review":
            task = tx.connection.execute(select(TASKS.c.decided_by, TASKS.c.decision).where(
                TASKS.c.order_id == order_id)).first()
            raise ReviewAlreadyDecided(order.public_id, order.state.value,
                                       task.decided_by if task else None,
                                       task.decision if task else None)
        orders.fire(ctx, tx, order, decision, by, checked)
        if blacklist:
            blacklist_from_order(tx.connection, order_id, kinds=blacklist, by=by,
                                 reason=reason or "rejected in review", at=ctx.clock.now())
