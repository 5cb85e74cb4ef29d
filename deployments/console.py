"""The orderpilot console: one long-lived process that keeps the Prefect UI true to the store.

Loops, each in its own thread (no flow run every few seconds, no process per event):
- relay: outbox rows → Prefect events (the UI's event feed, and any automation of your own);
- cases: new outbox rows → open / close / escalate case runs (reviews, refunds, stalls); and
  every minute the re-drive: every open case has exactly one live run, lost runs re-created;
- answers: resumed case runs → the decision applied, the run closed;
- jobs: new outbox rows → settlements, refund triage, carrier chases (own cursor: slow
  outside systems never delay a review);
- sweep: due timers fired; money operations left pending retried, abandoned payments released;
- dashboard: the `review-queue`, `shop-health`, `carrier-kpi` and diagram pages (each key
  led by the shop's name when ORDERPILOT_SHOP is set: `staging-review-queue`);
and, with a metrics port, a Prometheus endpoint (`/metrics`).
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient, get_client
from prometheus_client import start_http_server

from deployments.loops import Loop
from flows.cases import FLOWS
from flows.dashboard import Dashboard
from flows.desk import Desk
from flows.naming import named, shop_of, shop_tags
from flows.redrive import failed_actions, redrive
from flows.wiring import event_sink, ports
from integrations.console.casework import REFUND_REVIEW, open_case
from integrations.console.follower import Follower
from integrations.console.jobs import JOBS, Ports
from integrations.console.metrics import ConsoleMetrics
from integrations.console.routing import SETTLE_REFUND, Intent, intents_of
from integrations.events.relay import drain
from integrations.risk.budget import check_review_budget
from integrations.service.context import Context
from integrations.service.money_sweep import sweep_money
from integrations.service.sweep import sweep
from statemachine.ports import Message

log = logging.getLogger("orderpilot.console")
JOBS_CURSOR = "console:jobs-cursor"
OPENERS = 4  # cases worked on at once by the cases loop


def register_deployments(shop: str | None = None) -> dict[str, UUID]:
    """The case deployments of `shop` (`risk-review/staging-risk-review`; no shop: the
    single store's `risk-review/risk-review`). No work pool: the console runs their cases."""
    return {kind: flow.to_deployment(name=named(shop, kind),
                                     tags=["orderpilot", *shop_tags(shop)]).apply()
            for kind, flow in FLOWS.items()}


class Console:
    def __init__(self, ctx: Context, *, ports_: Ports | None = None, poll: float = 0.5,
                 sweep_every: float = 15.0, redrive_every: float = 60.0,
                 dashboard_every: float = 15.0, relay: bool = True,
                 metrics_port: int | None = None, metrics_host: str = "127.0.0.1"):
        self.ctx, self.ports = ctx, ports_ or ports(ctx)
        self.intervals = {"poll": poll, "sweep": sweep_every, "redrive": redrive_every,
                          "dashboard": dashboard_every}
        self.relay_enabled = relay
        self.metrics_at = (metrics_host, metrics_port)
        self.metrics_server: Any = None
        self.metrics = ConsoleMetrics(ctx)
        self.counts: Counter[str] = Counter()
        self.counting = threading.Lock()
        self.stop_event = threading.Event()
        self.loops: list[Loop] = []
        self.desk: Desk | None = None
        self.actions_checked_at = datetime.now(UTC)  # Prefect's events are on the wall clock
        self.redrive_due = 0.0
        self.failures_seen: set[str] = set()
        self.budget_alerted_for: datetime | None = None
        self.pool: ThreadPoolExecutor | None = None  # opens / closes of different cases

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Register the case deployments, re-drive once, then start every loop."""
        self.desk = Desk(self.ctx, self.ports, register_deployments(shop_of(self.ctx)))
        self.dashboard = Dashboard(self.desk)
        self.cases, self.jobs = Follower(self.ctx), Follower(self.ctx, key=JOBS_CURSOR)
        self.pool = ThreadPoolExecutor(OPENERS, thread_name_prefix="cases")
        with get_client(sync_client=True) as client:
            self.redrive_once(client)
        p = self.intervals["poll"]
        specs: list[tuple[str, float, Callable[[SyncPrefectClient], int | None], int | None]] = [
            ("cases", p, self.cases_once, 1), ("answers", max(p, 0.5), self.answer_once, 1),
            ("jobs", p, self.jobs_once, 1),
            ("sweep", self.intervals["sweep"], lambda _c: self.sweep_once(), None),
            ("dashboard", self.intervals["dashboard"], self.dashboard_once, None)]
        if self.relay_enabled:
            specs.insert(0, ("relay", p, lambda _c: self.relay_once(), 1))
        if self.metrics_at[1] is not None:
            self.metrics_server, _ = start_http_server(self.metrics_at[1], self.metrics_at[0],
                                                       registry=self.metrics.registry)
        for name, every, step, busy in specs:
            loop = Loop(name, every, step, self._failed, busy,
                        resource=lambda: get_client(sync_client=True))
            loop.start(self.stop_event)
            self.loops.append(loop)

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        for loop in self.loops:
            loop.join(timeout)
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        if self.metrics_server is not None:
            self.metrics_server.shutdown()
            self.metrics_server.server_close()

    def run_until_stopped(self) -> None:
        """Start, then block until Ctrl-C / SIGTERM (or `stop()` from another thread)."""
        self.start()
        try:
            while not self.stop_event.wait(60):
                log.info("console: %s", dict(self.counts) or "idle")
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    # --- one round of each loop -----------------------------------------------------------------

    def relay_once(self) -> int:
        with event_sink() as sink:
            sent = drain(self.ctx, sink)
        self.counts["events published"] += sent
        self.metrics.events.inc(sent)
        return sent

    def cases_once(self, client: SyncPrefectClient) -> int:
        """Follow the outbox; now and then re-drive (same thread: the two never race)."""
        if time.monotonic() >= self.redrive_due:
            self.redrive_once(client)
        return self.follow_once(client)

    def follow_once(self, client: SyncPrefectClient) -> int:
        """New outbox rows → case runs opened, closed or escalated: each case's intents in
        order, different cases side by side (each is a few API calls that mostly wait)."""
        rows = self.cases.poll(time.monotonic())
        per_case: dict[str, list[Intent]] = defaultdict(list)
        for row in rows:
            self._count_transition(row)
            for intent in intents_of(row.event, row.entity, row.entity_id, row.order_id,
                                     row.payload or {}):
                if intent.action != "job":
                    per_case[intent.entity].append(intent)
        work = [lambda i=intents: self._work_on(client, i) for intents in per_case.values()]
        if len(work) > 1 and self.pool is not None:
            # each step in a copy of this thread's context: Prefect's settings live there
            contexts = [contextvars.copy_context() for _ in work]
            list(self.pool.map(lambda c, step: c.run(step), contexts, work))
        else:
            for step in work:
                step()
        if rows:
            self.cases.commit()
        return len(rows)

    def _work_on(self, client: SyncPrefectClient, intents: list[Intent]) -> None:
        for intent in intents:
            self._guarded(f"{intent.action} {intent.kind}",
                          lambda i=intent: self.on_intent(client, i))

    def on_intent(self, client: SyncPrefectClient, intent: Intent) -> None:
        assert self.desk is not None
        if intent.action == "open":
            case = open_case(self.ctx, intent.kind, intent.entity)
            if case is not None and self.desk.open(client, case)[1]:
                self._count("opened")
        elif intent.action == "close":
            self._count("closed", self.desk.close(client, intent.kind, intent.entity,
                                                 intent.why))
        elif intent.action == "escalate":
            self._count("escalated", self.desk.escalate(client, intent.kind, intent.entity,
                                                       intent.order_id))
        elif intent.action == "refresh":
            self._count("refreshed", self.desk.refresh(client, intent.kind, intent.entity,
                                                      intent.why))

    def answer_once(self, client: SyncPrefectClient) -> int:
        """Resumed (or hand-started) case runs → the answer applied."""
        assert self.desk is not None
        runs = self.desk.answered(client)
        for run in runs:
            outcome = self.desk.handle(client, run)
            log.info("%s: %s", run.name, outcome)
            self._count("answered")
        return len(runs)

    def jobs_once(self, client: SyncPrefectClient | None = None) -> int:
        """New outbox rows → automation jobs (settlements, triage, carrier chases); what a
        case's settle job did is told on the case's runs and its order's case file."""
        rows = self.jobs.poll(time.monotonic())
        for row in rows:
            for intent in intents_of(row.event, row.entity, row.entity_id, row.order_id,
                                     row.payload or {}):
                if intent.action == "job":
                    outcome = self._guarded(intent.kind, lambda i=intent: JOBS[i.kind](
                        self.ctx, self.ports, i.entity)) or "failed"
                    log.info("job %s of %s: %s", intent.kind, intent.entity, outcome)
                    self.metrics.jobs.labels(intent.kind, outcome.split(":")[0]).inc()
                    self._count(f"job {intent.kind}")
                    if intent.kind == SETTLE_REFUND and client is not None:
                        self._tell_case(client, intent, outcome)
        if rows:
            self.jobs.commit()
        return len(rows)

    def _tell_case(self, client: SyncPrefectClient, intent: Intent, outcome: str) -> None:
        assert self.desk is not None
        self._guarded(f"tell {intent.entity} of {intent.kind}", lambda: self.desk.tell(
            client, REFUND_REVIEW, intent.entity, intent.order_id, outcome))

    def sweep_once(self) -> int:
        fired = sweep(self.ctx, self.ctx.clock.now(), self.ctx.settings.sweep_batch)
        self.counts["timers fired"] += sum(n for k, n in fired.items() if k != "stale")
        self.watch_review_budget()
        moved = sweep_money(self.ctx, self.ctx.clock.now())  # provider calls left behind
        self.counts["payments retried"] += moved["retried"]
        self.counts["payments released"] += moved["released"]
        self.counts["refunds owed alerts"] += moved["refunds_owed_alerted"]
        return 0

    def watch_review_budget(self) -> None:
        """Tell ops, once per clock hour while it lasts, that the last hour's review share is
        over the budget (issue 12: the budget is steered, not hoped for)."""
        now = self.ctx.clock.now()
        hour = now.replace(minute=0, second=0, microsecond=0)
        if hour == self.budget_alerted_for:
            return  # told already this hour: no need to read the shares and reasons again
        message = check_review_budget(self.ctx, now)
        if message is not None:
            self.budget_alerted_for = hour
            self.ports.notify(message)
            self.counts["review budget alerts"] += 1

    def redrive_once(self, client: SyncPrefectClient) -> int:
        assert self.desk is not None
        self.redrive_due = time.monotonic() + self.intervals["redrive"]
        counts = redrive(self.desk, client, catch_up=lambda: self.follow_once(client))
        for what, n in counts.items():
            self._count(what, n)
        self._report_failed_actions(client)
        return 0

    def _report_failed_actions(self, client: SyncPrefectClient) -> None:
        """Count, log and tell ops about automation actions Prefect failed (its events arrive
        late: the window overlaps the last one, and each failure is reported once)."""
        since, self.actions_checked_at = (self.actions_checked_at - timedelta(minutes=5),
                                          datetime.now(UTC))
        failures = {k: v for k, v in failed_actions(client, since).items()
                    if k not in self.failures_seen}
        if failures:
            self.failures_seen = set(list(self.failures_seen)[-1000:]) | set(failures)
            self._count("automation actions failed", len(failures))
            self.metrics.failures.labels("automation action").inc(len(failures))
            lines = "; ".join(list(failures.values())[:5])
            log.warning("Prefect automation actions failed: %s", lines)
            self._guarded("tell ops of failed automation actions", lambda: self.ports.notify(
                Message("orderpilot.console.automation_failed", "ops",
                        f"{len(failures)} Prefect automation action(s) failed",
                        f"Prefect could not carry out: {lines}. Check the automation and "
                        "its target in the Prefect UI (Automations).")))

    def dashboard_once(self, client: SyncPrefectClient) -> int:
        return self.dashboard.refresh(client, self.counts)

    # --- helpers ----------------------------------------------------------------------------------

    def _guarded(self, what: str, action: Callable[[], Any]) -> Any:
        """Run one action; a failure is logged and counted, and the re-drive mends it later."""
        try:
            return action()
        except Exception as error:
            log.warning("console: %s failed: %s: %s", what, type(error).__name__, error)
            self._failed(what, error)
            return None

    def _failed(self, what: str, error: Exception) -> None:
        with self.counting:
            self.counts[f"failed: {what}"] += 1
        self.metrics.failures.labels(what).inc()

    def _count(self, what: str, n: int = 1) -> None:
        with self.counting:  # the cases loop counts from several threads
            self.counts[what] += n
        if what in ("opened", "closed", "recreated", "answered", "escalated"):
            self.metrics.runs.labels(what).inc(n)

    def _count_transition(self, row: Any) -> None:
        trigger = (row.payload or {}).get("trigger")
        if trigger:
            self.metrics.transitions.labels(row.entity, trigger).inc()
