"""The dashboard pages of the console (markdown): the review queue, the shop's health and the
lifecycle diagrams."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from integrations.console.casefiles import duration, table, when
from integrations.console.casework import OpenCase, money
from integrations.console.health import REVIEW_BUDGET, Health
from statemachine.diagrams import mermaid_markdown

TITLES = {"risk-review": "risk review", "refund-review": "refund review", "stall": "stalled parcel",
          "dispute-review": "chargeback", "return-bounced": "return bounced"}


def review_queue(cases: list[OpenCase], links: Mapping[str, str], now: datetime,
                 zone: ZoneInfo) -> str:
    """Every case waiting for a person, oldest first, each linked to its run."""
    overdue = sum(1 for c in cases if c.due_at and c.due_at <= now)
    rows = [[f"[{c.entity}]({links[c.episode]})" if c.episode in links else c.entity,
             TITLES[c.kind], c.order_id, money(c.amount, c.currency), "; ".join(c.reasons),
             c.buyer_id, when(c.opened_at, zone), duration(c.sla_left(now))]
            for c in sorted(cases, key=lambda c: c.opened_at)]
    return (f"# Review queue\n\n**{len(cases)}** waiting for a person, **{overdue}** overdue "
            f"— updated {when(now, zone)}. Open a case, read it, choose in the form.\n\n"
            + table(["case", "kind", "order", "amount", "why", "buyer", "waiting since",
                     "SLA"], rows, "nothing waits for a person"))


def shop_health(health: Health, console: Mapping[str, int], zone: ZoneInfo) -> str:
    """Orders per state, what is about to lapse or already did, and the console's own lag."""
    states = table(["state", "orders"], [[s, n] for s, n in sorted(health.orders_by_state.items())])
    share = health.review_share
    budget = "within" if share <= REVIEW_BUDGET else "**over**"
    figures = table(["", ""], [
        ["stock holds expiring in 10 min", health.holds_expiring_10min],
        ["parcels stalled", health.parcels_stalled],
        ["reviews past their SLA", health.reviews_overdue],
        ["after-sales requests and bounced returns past their SLA", health.aftersales_overdue],
        ["review share, last 24 h", f"{share:.1%} of {health.placed_24h} orders ({budget} the "
                                    f"{REVIEW_BUDGET:.0%} budget)"],
        ["outbox waiting / lag", f"{health.outbox_waiting} / {health.outbox_lag()}"],
        ["timers overdue / sweep lag", f"{health.deadlines_overdue} / {health.sweep_lag()}"]])
    work = table(["console", "since start"], [[k, v] for k, v in sorted(console.items())],
                 "nothing yet")
    return (f"# Shop health — {when(health.at, zone)}\n\n{figures}\n## Orders per state\n\n"
            f"{states}\n## Console work\n\n{work}")


def diagrams() -> str:
    """The lifecycles as the transition tables define them."""
    return ("# Lifecycles\n\nGenerated from the transition tables (`orderpilot diagram`).\n\n"
            + mermaid_markdown("all"))
