"""The shop's health at a glance, read from the store: what an operations lead checks first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from integrations.db.schema import CaseRow, DeadlineRow, OrderRow, OutboxRow, ShipmentRow
from integrations.db.schema_risk import ReviewTaskRow
from integrations.service.context import Context

ORDERS, CASES, SHIPMENTS = OrderRow.__table__, CaseRow.__table__, ShipmentRow.__table__
DEADLINES, OUTBOX, TASKS = DeadlineRow.__table__, OutboxRow.__table__, ReviewTaskRow.__table__
REVIEW_BUDGET = 0.20  # the operating manuals: ~80 % cleared by machine, ~20 % by people


@dataclass(frozen=True)
class Health:
    at: datetime
    orders_by_state: dict[str, int]
    holds_expiring_10min: int
    parcels_stalled: int
    reviews_overdue: int
    aftersales_overdue: int
    placed_24h: int
    reviewed_24h: int
    outbox_waiting: int
    outbox_oldest: datetime | None
    deadlines_overdue: int
    oldest_overdue_deadline: datetime | None

    @property
    def review_share(self) -> float:
        return self.reviewed_24h / self.placed_24h if self.placed_24h else 0.0

    def outbox_lag(self) -> timedelta:
        return self.at - self.outbox_oldest if self.outbox_oldest else timedelta(0)

    def sweep_lag(self) -> timedelta:
        due = self.oldest_overdue_deadline
        return self.at - due if due else timedelta(0)


def shop_health(ctx: Context, now: datetime) -> Health:
    """Counts over orders, parcels, reviews, timers and the outbox at `now` (one read)."""
    with ctx.tx(readonly=True) as tx:
        one = lambda query: tx.connection.execute(query).scalar_one()  # noqa: E731
        by_state = dict(tx.connection.execute(
            select(ORDERS.c.state, func.count()).group_by(ORDERS.c.state)).all())
        due = DEADLINES.c.due_at
        overdue = select(func.count(), func.min(due)).where(due <= now)
        late_deadlines, oldest_deadline = tx.connection.execute(overdue).one()
        waiting, oldest_event = tx.connection.execute(
            select(func.count(), func.min(OUTBOX.c.created_at))
            .where(OUTBOX.c.published_at.is_(None))).one()
        day = now - timedelta(hours=24)
        return Health(
            at=now, orders_by_state={str(k): int(v) for k, v in by_state.items()},
            holds_expiring_10min=one(select(func.count()).where(
                DEADLINES.c.kind == "hold_expiry", due <= now + timedelta(minutes=10))),
            parcels_stalled=one(select(func.count()).where(SHIPMENTS.c.state == "stalled")),
            reviews_overdue=one(select(func.count()).where(
                TASKS.c.decided_at.is_(None), TASKS.c.due_at <= now)),
            aftersales_overdue=one(select(func.count()).where(
                CASES.c.state.in_(("requested", "under_review")),
                CASES.c.created_at <= now - ctx.timeouts.aftersales_sla)),
            placed_24h=one(select(func.count()).where(ORDERS.c.created_at >= day)),
            reviewed_24h=one(select(func.count()).where(TASKS.c.opened_at >= day)),
            outbox_waiting=int(waiting), outbox_oldest=oldest_event,
            deadlines_overdue=int(late_deadlines), oldest_overdue_deadline=oldest_deadline)
