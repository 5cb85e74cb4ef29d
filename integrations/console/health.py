"""The shop's health at a glance, read from the store: what an operations lead checks first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from integrations.db.health_counts import health_counts
from integrations.service.context import Context

REVIEW_BUDGET = 0.20  # the operating manuals: ~80 % cleared by machine, ~20 % by people


@dataclass(frozen=True)
class Health:
    at: datetime
    orders_by_state: dict[str, int]
    holds_expiring_10min: int
    parcels_stalled: int
    reviews_overdue: int
    aftersales_overdue: int  # requests and bounced returns past their SLA
    bounced_overdue: int     # … of which bounced returns (24 h from the bounce)
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
        return Health(at=now, **health_counts(tx.connection, now, ctx.timeouts.aftersales_sla))
