"""The work-pool path out of the box: the shipped process template and prefect.yaml, deployed
with `prefect deploy`, run the console as one flow run on `prefect worker start`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.prefect, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
PREFECT = [sys.executable, "-m", "prefect", "--no-prompt"]


def prefect(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*PREFECT, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


def test_a_process_worker_runs_the_console_deployment_from_prefect_yaml(
        tmp_path: Path, prefect_server: str):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterDeploymentId

    from tests.integration.orchestration.shop import open_shop, place

    # Given a store, the shipped process pool template and prefect.yaml deployed
    store = f"sqlite:///{tmp_path / 'shop.db'}"
    pilot = open_shop(str(tmp_path / "shop.db"))
    place(pilot, buyer="b-88")
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "ORDERPILOT_DATABASE_URL": store}
    prefect("work-pool", "create", "orderpilot", "--type", "process", "--overwrite",
            "--base-job-template", "deployments/work-pools/process.json", env=env)
    prefect("deploy", "--all", "--prefect-file", "deployments/prefect.yaml", env=env)
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("console/console")
        client.pause_deployment(deployment.id)  # only the run below, not the hourly schedule
        scheduled = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            deployment_id=FlowRunFilterDeploymentId(any_=[deployment.id])))
        for run in scheduled:
            client.delete_flow_run(run.id)
        # When a run of the console deployment is due and a worker polls once (the run lasts
        # 7.2 s: the relay loop drains at its start and every 0.5 s after)
        run = client.create_flow_run_from_deployment(deployment.id,
                                                     parameters={"hours": 0.002})
    prefect("worker", "start", "--pool", "orderpilot", "--run-once", env=env)
    # Then the run completed (no crash for a missing working directory) and it relayed the store
    with get_client(sync_client=True) as client:
        final = client.read_flow_run(run.id)
    assert final.state.is_completed(), final.state
    assert pilot.orders.list().orders and _published(pilot) > 0


def _published(pilot: object) -> int:
    from sqlalchemy import func, select

    from integrations.db.repository import OUTBOX

    with pilot.context.tx(readonly=True) as tx:  # type: ignore[attr-defined]
        return int(tx.connection.execute(select(func.count()).select_from(OUTBOX).where(
            OUTBOX.c.published_at.is_not(None))).scalar_one())
