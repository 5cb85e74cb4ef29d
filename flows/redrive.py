"""The re-drive: the store says which cases wait for a person; every one of them must have
exactly one live run, and no live run may outlive its case. Runs lost anywhere — an API call
the server refused, a run cancelled by hand, a console that was down — are re-created here,
once (the idempotency key names the case episode); failed Prefect automation actions are
counted and reported."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.objects import FlowRun
from prefect.events.filters import EventFilter, EventNameFilter, EventOccurredFilter

from flows import case_runs
from flows.cases import KINDS
from flows.desk import Desk
from integrations.console.casework import open_case, open_cases

FAILED_ACTION = "prefect.automation.action.failed"


def redrive(desk: Desk, client: SyncPrefectClient,
            catch_up: Callable[[], object] = lambda: None) -> Counter[str]:
    """Re-create missing case runs and close runs whose case is settled; counts of each.

    `catch_up` lets the event-driven side handle what is already in the outbox first, so that a
    case opened a moment ago is not taken for a lost one."""
    expected = {case.episode: case for case in open_cases(desk.ctx)}
    catch_up()
    live: dict[str, list[FlowRun]] = defaultdict(list)
    for kind in KINDS:
        for run in desk.runs(client, [f"kind:{kind}"], case_runs.LIVE):
            live[_episode(run)].append(run)
    counts: Counter[str] = Counter()
    for episode, case in expected.items():
        still = episode not in live and open_case(desk.ctx, case.kind, case.entity)
        if still and still.episode == episode and desk.open(client, still)[1]:
            counts["recreated"] += 1
    for episode, runs in live.items():
        # (a case opened after the snapshot — by `catch_up` or the cases loop — is not settled)
        settled = episode not in expected and not _still_open(desk, runs[0], episode)
        for run in runs if settled else runs[1:]:
            why = _why_settled(desk, run) if settled else "duplicate run"
            case_runs.close(client, run.id, f"closed by the re-drive: {why}")
            counts["closed stale" if settled else "closed duplicate"] += 1
    return counts


def failed_actions(client: SyncPrefectClient, since: datetime) -> dict[str, str]:
    """What Prefect automations failed to do since `since`: event id → one line."""
    page = client.read_events(filter=EventFilter(
        event=EventNameFilter(prefix=[FAILED_ACTION]),
        occurred=EventOccurredFilter(since=since, until=since + timedelta(days=3650))),
        limit=50)
    return {str(e.id): f"{e.occurred:%H:%M:%S} "
            f"{e.resource.get('prefect.resource.name', e.resource.id)}: "
            f"{e.payload.get('reason') or e.payload.get('action_type') or 'failed'}"
            for e in page.events}


def _episode(run: FlowRun) -> str:
    return _tag(run, "episode:")


def _tag(run: FlowRun, prefix: str) -> str:
    return next((t.removeprefix(prefix) for t in run.tags if t.startswith(prefix)), "")


def _still_open(desk: Desk, run: FlowRun, episode: str) -> bool:
    """Whether the store has the run's case open, in this episode, right now."""
    kind, entity = _tag(run, "kind:"), _tag(run, "entity:")
    case = open_case(desk.ctx, kind, entity) if kind in KINDS and entity else None
    return case is not None and case.episode == episode


def _why_settled(desk: Desk, run: FlowRun) -> str:
    kind, entity = _tag(run, "kind:"), _tag(run, "entity:")
    why_gone = KINDS[kind].why_gone if kind in KINDS else None
    return why_gone(desk.ctx, entity) if why_gone is not None and entity else \
        "the case was settled while nobody watched"
