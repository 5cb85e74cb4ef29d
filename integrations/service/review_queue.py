"""The review queue: held orders with their reasons, SLA and escalation; decisions by a person.

A task is opened by `integrations.risk.hooks.review_task_hook` when an order enters
`under_review` and closed when it leaves. The core sweep announces an overdue task once
(`orderpilot.order.review_overdue`); that announcement is the escalation shown here.

A use case of the application wing (it lived in integrations/risk/ before); its reads are
integrations/db/review_tasks.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.db.review_tasks import decision_of, review_tasks
from integrations.db.schema import REVIEW_OVERDUE
from integrations.risk.errors import ReviewAlreadyDecided
from integrations.risk.lists_store import blacklist_from_order
from integrations.service import orders
from integrations.service.contention import retrying
from integrations.service.context import Context
from integrations.service.inputs import Reasoned, parse
from statemachine import ids

OVERDUE_EVENT = REVIEW_OVERDUE  # the outbox indexes it by order: ix_outbox_review_overdue


def list_tasks(ctx: Context, now: datetime, include_decided: bool = False) -> list[dict[str, Any]]:
    """Open tasks (or all), escalated first, then by due time; with overdue / escalated flags."""
    with ctx.tx(readonly=True) as tx:
        rows = review_tasks(tx.connection, OVERDUE_EVENT, include_decided)
    for row in rows:
        row["order_id"] = ids.ORDER(row["order_id"])
        row["address_corrected"] = (row.pop("attrs") or {}).get("address_corrected")
        row["overdue"] = row["decided_at"] is None and now >= row["due_at"]
        row["escalated"] = row["escalated_at"] is not None and row["decided_at"] is None
    return sorted(rows, key=lambda r: (not r["escalated"], not r["overdue"], r["due_at"]))


@retrying("the review decision")
def decide(ctx: Context, order_id: int, decision: str, by: str, reason: str | None,
           blacklist: tuple[str, ...] = ()) -> None:
    """Approve or reject a held order as `by`; refuses with ReviewAlreadyDecided otherwise."""
    checked = parse(Reasoned, {"reason": reason}).model_dump(exclude_none=True)
    now = ctx.clock.now()  # the step's and the block list entries'
    with ctx.tx() as tx:
        order = tx.store.get_order(order_id, lock=True)  # a concurrent decision commits first
        if order.state.value != "under_review":
            task = decision_of(tx.connection, order_id)
            raise ReviewAlreadyDecided(order.public_id, order.state.value,
                                       task.decided_by if task else None,
                                       task.decision if task else None)
        orders.fire(ctx, tx, order, decision, by, checked, now=now)
        if blacklist:
            blacklist_from_order(tx.connection, order_id, kinds=blacklist, by=by,
                                 reason=reason or "rejected in review", at=now)
