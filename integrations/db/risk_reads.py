"""Reads of the stored risk decisions and credit events for the review budget's live shares
(integrations/risk/budget.py) and the shadow report (integrations/risk/shadow.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from integrations.db.schema_risk import CreditEventRow, RiskDecisionRow
from integrations.db.sql import Sql

DECISIONS, CREDIT = RiskDecisionRow.__table__, CreditEventRow.__table__


def live_actions(sql: Sql, since: datetime, now: datetime) -> dict[str, int]:
    """Live decisions per action (approve, review, ...) decided in (since, now]."""
    return dict(sql.all("SELECT action, count(*) FROM risk_decisions WHERE mode = 'live' "
                        "AND decided_at > :since AND decided_at <= :now GROUP BY action",
                        {"since": since, "now": now}))


def review_reasons(conn: Connection, since: datetime, now: datetime
                   ) -> list[tuple[datetime, list[Any]]]:
    """When and why each live decision in (since, now] sent an order to review: what made
    people's share what it is (read on demand, not per metrics scrape)."""
    query = select(DECISIONS.c.decided_at, DECISIONS.c.reasons).where(
        DECISIONS.c.mode == "live", DECISIONS.c.action == "review",
        DECISIONS.c.decided_at > since, DECISIONS.c.decided_at <= now)
    return [(at, reasons or []) for at, reasons in conn.execute(query)]


def decisions(conn: Connection, mode: str) -> dict[int, dict[str, Any]]:
    """The stored decision rows of one mode (live or shadow), by order id."""
    rows = conn.execute(select(DECISIONS).where(DECISIONS.c.mode == mode)).mappings()
    return {r["order_id"]: dict(r) for r in rows}


def orders_with_credit_events(conn: Connection, kinds: Sequence[str]) -> set[int]:
    """Orders behind credit events of these kinds (chargebacks, malicious refunds: the known
    bad outcomes the shadow report checks the rule sets against)."""
    return set(conn.execute(select(CREDIT.c.order_id).where(CREDIT.c.kind.in_(kinds))).scalars())
