"""The counts behind the console's shop-health page and metrics (integrations/console/)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from integrations.db.schema import CaseRow, DeadlineRow, OrderRow, OutboxRow, ShipmentRow
from integrations.db.schema_integrations import WebhookEventRow
from integrations.db.schema_risk import ReviewTaskRow

ORDERS, CASES, SHIPMENTS = OrderRow.__table__, CaseRow.__table__, ShipmentRow.__table__
DEADLINES, OUTBOX, TASKS = DeadlineRow.__table__, OutboxRow.__table__, ReviewTaskRow.__table__
WEBHOOKS = WebhookEventRow.__table__


def health_counts(connection: Connection, now: datetime, aftersales_sla: timedelta
                  ) -> dict[str, Any]:
    """Orders by state, holds about to lapse, stalled parcels, overdue reviews and after-sales
    answers, the last day's placements and reviews, the outbox's and the timers' backlog."""
    one = lambda query: connection.execute(query).scalar_one()  # noqa: E731
    by_state = dict(connection.execute(
        select(ORDERS.c.state, func.count()).group_by(ORDERS.c.state)).all())
    due = DEADLINES.c.due_at
    late_deadlines, oldest_deadline = connection.execute(
        select(func.count(), func.min(due)).where(due <= now)).one()
    waiting, oldest_event = connection.execute(
        select(func.count(), func.min(OUTBOX.c.created_at))
        .where(OUTBOX.c.published_at.is_(None))).one()
    day = now - timedelta(hours=24)
    bounced_late = and_(CASES.c.state == "return_bounced",
                        CASES.c.updated_at <= now - aftersales_sla)
    return dict(
        orders_by_state={str(k): int(v) for k, v in by_state.items()},
        holds_expiring_10min=one(select(func.count()).where(
            DEADLINES.c.kind == "hold_expiry", due <= now + timedelta(minutes=10))),
        parcels_stalled=one(select(func.count()).where(SHIPMENTS.c.state == "stalled")),
        reviews_overdue=one(select(func.count()).where(
            TASKS.c.decided_at.is_(None), TASKS.c.due_at <= now)),
        # the SLA runs from the request, or for a return bounced back to the buyer from the
        # bounce (its last step: statemachine.aftersales.answer_due)
        aftersales_overdue=one(select(func.count()).where(or_(
            and_(CASES.c.state.in_(("requested", "under_review")),
                 CASES.c.created_at <= now - aftersales_sla), bounced_late))),
        bounced_overdue=one(select(func.count()).where(bounced_late)),
        placed_24h=one(select(func.count()).where(ORDERS.c.created_at >= day)),
        reviewed_24h=one(select(func.count()).where(TASKS.c.opened_at >= day)),
        outbox_waiting=int(waiting), outbox_oldest=oldest_event,
        deadlines_overdue=int(late_deadlines), oldest_overdue_deadline=oldest_deadline)


def inbound_webhook_outcomes(connection: Connection) -> list[tuple[str, str, int]]:
    """(source, refused | applied | recorded, count) of the webhook events received. Grouped
    by the columns of ix_webhook_events_outcome, in its order (no sort), then folded here."""
    counts: Counter[tuple[str, str]] = Counter()
    for source, code, applied, n in connection.execute(
            select(WEBHOOKS.c.source, WEBHOOKS.c.status_code, WEBHOOKS.c.applied, func.count())
            .group_by(WEBHOOKS.c.source, WEBHOOKS.c.status_code, WEBHOOKS.c.applied)):
        outcome = "refused" if code >= 400 else "applied" if applied else "recorded"
        counts[str(source), outcome] += int(n)
    return [(source, outcome, n) for (source, outcome), n in counts.items()]
