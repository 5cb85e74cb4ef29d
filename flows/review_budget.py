"""Review-budget watch: every 15 minutes, tell ops when the last hour's review share is over
the budget (ORDERPILOT_RISK_REVIEW_BUDGET, default 20 %); the message repeats while it is."""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger

from flows.wiring import context, notify
from integrations.risk.budget import budget_alert, live_shares
from integrations.risk.settings import RiskSettings


@flow(name="review-budget-watch")
def review_budget_watch(now: datetime | None = None,
                        database_url: str | None = None) -> dict[str, float]:
    """The review share over the last hour and day; alerts ops when over budget."""
    ctx = context(database_url)
    when, budget = now or ctx.clock.now(), RiskSettings().review_budget
    with ctx.tx(readonly=True) as tx:
        shares = live_shares(tx.connection, when, budget)
    message = budget_alert(shares, budget, when)
    if message is not None:
        get_run_logger().warning(message.title)
        notify(message)
    return {name: w["review_share"] for name, w in shares.items()}
