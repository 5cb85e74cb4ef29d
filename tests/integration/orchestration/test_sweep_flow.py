"""The deadline-sweep flow on simulated time, against a real Prefect server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.orchestration.shop import open_shop, place

pytestmark = pytest.mark.prefect


def test_the_sweep_flow_expires_exactly_the_due_holds_and_releases_their_stock(
        tmp_path: Path, prefect_server: str):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from flows.sweep import deadline_sweep
    from statemachine.clock import ManualClock
    from tests.integration.orchestration.shop import START

    # Given three unpaid orders placed at 09:00 (20 min holds) and two placed at 09:10
    clock = ManualClock(START)
    pilot = open_shop(str(tmp_path / "shop.db"), clock)
    early = [place(pilot, quantity=2) for _ in range(3)]
    clock.advance(minutes=10)
    late = [place(pilot, quantity=5) for _ in range(2)]
    assert pilot.inventory.level(sku="mug", warehouse="sh").reserved == 16
    # When the sweep flow runs at 09:25 (simulated), then again at 09:26
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    state = deadline_sweep(now=clock.advance(minutes=15), database_url=url, return_state=True)
    first = state.result()
    second = deadline_sweep(now=clock.advance(minutes=1), database_url=url)
    # Then exactly the three early holds expired, once, and only their stock came back
    assert first == {"hold_expiry": 3, "stale": 0} and second == {}
    assert [pilot.orders.get(o).state for o in early] == ["expired"] * 3
    assert [pilot.orders.get(o).state for o in late] == ["awaiting_payment"] * 2
    level = pilot.inventory.level(sku="mug", warehouse="sh")
    assert (level.on_hand, level.reserved) == (1000, 10)
    # and the run left a summary a person can read
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])))
    [summary] = artifacts
    assert "| hold_expiry | 3 |" in summary.data and "3 deadline(s) fired" in summary.data
