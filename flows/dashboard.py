"""The shop dashboard inside the Prefect UI: artifacts under fixed keys, kept current —
`review-queue`, `shop-health`, `carrier-kpi` and `lifecycle-diagrams`, each led by the shop's
name when the store has one (`staging-review-queue`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta

from prefect.client.orchestration import SyncPrefectClient
from prefect.settings import PREFECT_UI_URL

from flows import case_runs
from flows.cases import KINDS
from flows.desk import Desk
from flows.naming import named
from integrations.console import pages
from integrations.console.casework import open_cases
from integrations.console.health import shop_health
from integrations.service.carrier_kpi import carrier_kpis

KPI_DAYS = 30


def run_url(run_id: object) -> str:
    return f"{str(PREFECT_UI_URL.value() or '').rstrip('/')}/runs/flow-run/{run_id}"


class Dashboard:
    def __init__(self, desk: Desk):
        self.ctx, self.desk, self.shelf = desk.ctx, desk, desk.shelf
        self.kpis_at: datetime | None = None

    def key(self, page: str) -> str:
        return named(self.desk.shop, page)

    def refresh(self, client: SyncPrefectClient, console: Mapping[str, int]) -> int:
        """Update every page that changed; returns how many were sent."""
        now, zone = self.ctx.clock.now(), self.ctx.settings.zone()
        cases = open_cases(self.ctx)
        links = {t.removeprefix("episode:"): run_url(run.id) for kind in KINDS
                 for run in self.desk.runs(client, [f"kind:{kind}"], case_runs.LIVE)
                 for t in run.tags if t.startswith("episode:")}
        sent = self.shelf.keep(client, self.key("review-queue"), "markdown",
                               pages.review_queue(cases, links, now, zone),
                               f"{len(cases)} case(s) waiting for a person")
        sent += self.shelf.keep(client, self.key("shop-health"), "markdown",
                                pages.shop_health(shop_health(self.ctx, now), console, zone),
                                "orders, timers, SLAs, review share, console lag")
        sent += self.shelf.keep(client, self.key("lifecycle-diagrams"), "markdown",
                                pages.diagrams(), "order, parcel and after-sales lifecycles")
        if self.kpis_at is None or now - self.kpis_at >= timedelta(hours=1):
            sent += self.carrier_kpis(client, now)
        return int(sent)

    def carrier_kpis(self, client: SyncPrefectClient, end: datetime) -> bool:
        """The carrier scorecard over the last 30 days (refreshed hourly)."""
        self.kpis_at = end
        rows = json.dumps([k.model_dump() for k in carrier_kpis(
            self.ctx, end - timedelta(days=KPI_DAYS), end)])
        return self.shelf.keep(client, self.key("carrier-kpi"), "table", rows,
                               f"carriers over the {KPI_DAYS} days to {end:%Y-%m-%d}; flagged "
                               "= bottom 10% by on-time rate")
