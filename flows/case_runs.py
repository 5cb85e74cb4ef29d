"""Case runs through the Prefect API: a person's piece of work as a flow run that waits,
suspended, with a form — and no process behind it (the console applies the answer).

Suspended, not Paused: a resumed run goes back to Scheduled ("Resuming"), where the console
picks it up, however long the person took and whether or not the console restarted meanwhile.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.actions import LogCreate
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.input import RunInput
from prefect.input.run_input import create_v2_schema, keyset_from_base_key
from prefect.states import Completed, Failed, Running, Suspended

LIVE = [StateType.PAUSED, StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING]
PAGE = 200


def create_run(client: SyncPrefectClient, deployment_id: UUID, *, name: str,
               parameters: dict[str, Any], tags: list[str], key: str) -> FlowRun:
    """Create the case's run (or get it back: the idempotency key names the case episode)."""
    return client.create_flow_run_from_deployment(
        deployment_id, parameters=parameters, name=name, tags=tags, idempotency_key=key,
        state=Running(message="opened by the orderpilot console"))


def suspend_with_form(client: SyncPrefectClient, run: FlowRun, form: type[RunInput],
                      description: str, timeout: timedelta | None = None) -> bool:
    """Suspend the run so that the UI shows `form` under `description` (answerable for
    `timeout`: the server refuses a later resume); False when the run could not be suspended
    (it is no longer running)."""
    pause_key = f"answer-{len(run.empirical_policy.pause_keys or ()) + 1:02d}"
    seconds = None if timeout is None else max(1, int(timeout.total_seconds()))
    state = Suspended(pause_key=pause_key, message="waiting for a person",
                      timeout_seconds=seconds)
    keyset = keyset_from_base_key(f"suspended-{pause_key}")
    state.state_details.run_input_keyset = keyset
    result = client.set_flow_run_state(run.id, state)
    if result.state is None or not result.state.is_paused():
        return False
    # after the state: entering a pause deletes any input stored under its keyset
    schema = create_v2_schema(form.__name__, model_base=form)
    client.create_flow_run_input(run.id, keyset["schema"], json.dumps(schema))
    client.create_flow_run_input(run.id, keyset["description"], json.dumps(description))
    return True


def redescribe(client: SyncPrefectClient, run: FlowRun, description: str) -> None:
    """The description above a suspended run's form, written anew (the form stays)."""
    keyset = run.state.state_details.run_input_keyset if run.state else None
    if not keyset:
        return
    client.delete_flow_run_input(run.id, keyset["description"])
    client.create_flow_run_input(run.id, keyset["description"], json.dumps(description))


def answer_of(client: SyncPrefectClient, run: FlowRun) -> dict[str, Any] | None:
    """The input the person submitted with the resume (None if resumed without one)."""
    pause_key = _last_pause_key(run)
    if pause_key is None:
        return None
    try:
        raw = client.read_flow_run_input(run.id, f"suspended-{pause_key}-response")
    except Exception:  # 404: resumed without input
        return None
    return json.loads(raw)


def take(client: SyncPrefectClient, run: FlowRun) -> bool:
    """Claim a resumed (scheduled) run for handling: False if someone else took it."""
    result = client.set_flow_run_state(run.id, Running(message="applying the decision"))
    return result.state is not None and result.state.is_running()


def close(client: SyncPrefectClient, run_id: UUID, message: str, failed: bool = False) -> None:
    """End a case run with what happened (Completed, or Failed for work that went wrong)."""
    state = Failed(message=message) if failed else Completed(message=message)
    client.set_flow_run_state(run_id, state, force=True)
    note(client, run_id, message, logging.ERROR if failed else logging.INFO)


def note(client: SyncPrefectClient, run_id: UUID, message: str,
         level: int = logging.INFO) -> None:
    """A line in the run's log, as a flow's logger would write it (the UI's Logs tab)."""
    client.create_logs([LogCreate(name="orderpilot.console", level=level, message=message,
                                  timestamp=datetime.now(UTC), flow_run_id=run_id)])


def runs_tagged(client: SyncPrefectClient, tags: list[str],
                states: list[StateType] | None = None) -> list[FlowRun]:
    """Every run with all `tags` (in `states`), oldest first, page by page."""
    query = FlowRunFilter(tags=FlowRunFilterTags(all_=tags))
    if states:
        query.state = FlowRunFilterState(type=FlowRunFilterStateType(any_=states))
    found: list[FlowRun] = []
    while True:
        page = client.read_flow_runs(flow_run_filter=query, limit=PAGE, offset=len(found),
                                     sort=FlowRunSort.EXPECTED_START_TIME_ASC)
        found += page
        if len(page) < PAGE:
            return found


def scheduled_runs(client: SyncPrefectClient, deployment_ids: list[UUID],
                   limit: int = 50) -> list[FlowRun]:
    """Runs of these deployments waiting to be handled: resumed, or started by hand."""
    return client.read_flow_runs(flow_run_filter=FlowRunFilter(
        deployment_id=FlowRunFilterDeploymentId(any_=deployment_ids),
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))),
        sort=FlowRunSort.EXPECTED_START_TIME_ASC, limit=limit)


def add_tags(client: SyncPrefectClient, run: FlowRun, *tags: str) -> None:
    client.update_flow_run(run.id, tags=sorted(set(run.tags) | set(tags)))


def _last_pause_key(run: FlowRun) -> str | None:
    """Pause keys are `answer-01`, `answer-02`, …: the latest sorts last."""
    keys = sorted(run.empirical_policy.pause_keys or ())
    return keys[-1] if keys else None
