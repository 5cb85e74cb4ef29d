"""Prometheus metrics of the console (prometheus-client): the work queue and the lags are read
from the store at scrape time (true whoever changed them); what the console itself did is
counted as it happens."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client import Counter as PromCounter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from integrations.console.casework import open_cases
from integrations.console.health import shop_health
from integrations.db.health_counts import inbound_webhook_outcomes
from integrations.risk.budget import review_shares
from integrations.service.context import Context


class StoreCollector(Collector):
    """Gauges computed from the store on every scrape."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = self.ctx.clock.now()
        queue = GaugeMetricFamily("orderpilot_review_queue", "Cases waiting for a person",
                                  labels=["kind"])
        for kind, n in sorted(Counter(c.kind for c in open_cases(self.ctx)).items()):
            queue.add_metric([kind], n)
        yield queue
        health = shop_health(self.ctx, now)
        breaches = GaugeMetricFamily("orderpilot_sla_breaches", "Cases past their SLA",
                                     labels=["kind"])
        breaches.add_metric(["risk-review"], health.reviews_overdue)
        breaches.add_metric(["refund-review"],
                            health.aftersales_overdue - health.bounced_overdue)
        breaches.add_metric(["return-bounced"], health.bounced_overdue)
        yield breaches
        yield GaugeMetricFamily("orderpilot_outbox_lag_seconds", "Age of the oldest unpublished "
                                "outbox row", value=health.outbox_lag().total_seconds())
        yield GaugeMetricFamily("orderpilot_outbox_waiting", "Unpublished outbox rows",
                                value=health.outbox_waiting)
        yield GaugeMetricFamily("orderpilot_sweep_lag_seconds", "How long the oldest due timer "
                                "has been due", value=health.sweep_lag().total_seconds())
        yield GaugeMetricFamily("orderpilot_parcels_stalled", "Parcels in a stall episode",
                                value=health.parcels_stalled)
        yield self._webhooks()
        yield from self._review_share(now)

    def _review_share(self, now) -> Iterator[GaugeMetricFamily]:
        """Share of live risk decisions sent to people, per window, and the budget: alert on
        `orderpilot_risk_review_share{window="hour"} > orderpilot_risk_review_budget`."""
        report = review_shares(self.ctx, now)
        share = GaugeMetricFamily("orderpilot_risk_review_share", "Share of orders the risk "
                                  "engine sent to review", labels=["window"])
        for window, w in report["windows"].items():
            share.add_metric([window], w["review_share"])
        yield share
        yield GaugeMetricFamily("orderpilot_risk_review_budget", "Share of orders people may "
                                "review (ORDERPILOT_RISK_REVIEW_BUDGET)", value=report["budget"])

    def _webhooks(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily("orderpilot_webhook_events", "Webhook events received, by "
                                   "source and outcome", labels=["source", "outcome"])
        with self.ctx.tx(readonly=True) as tx:
            rows = inbound_webhook_outcomes(tx.connection)
        for source, result, n in rows:
            family.add_metric([source, result], n)
        return family


class ConsoleMetrics:
    """One registry per console: the store gauges plus the console's own counters."""

    def __init__(self, ctx: Context):
        self.registry = CollectorRegistry()
        self.registry.register(StoreCollector(ctx))
        self.transitions = PromCounter("orderpilot_transitions", "Transitions seen in the "
                                       "outbox", ["entity", "trigger"], registry=self.registry)
        self.runs = PromCounter("orderpilot_console_runs", "Case runs the console opened, "
                                "decided, closed or re-created", ["action"],
                                registry=self.registry)
        self.failures = PromCounter("orderpilot_console_failures", "Console actions that "
                                    "failed (server refused, outside system down)", ["what"],
                                    registry=self.registry)
        self.events = PromCounter("orderpilot_events_published", "Outbox rows published as "
                                  "Prefect events", registry=self.registry)
        self.jobs = PromCounter("orderpilot_console_jobs", "Automation jobs by outcome",
                                ["job", "outcome"], registry=self.registry)
