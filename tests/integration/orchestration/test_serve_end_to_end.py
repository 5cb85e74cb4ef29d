"""End to end: event → deployment trigger → flow run → a person's input → order state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from integrations.events.relay import PrefectHttpSink, drain
from tests.integration.orchestration.shop import open_shop, place, review_big_orders

pytestmark = [pytest.mark.prefect, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]


def _wait(what: str, check, timeout: float = 60):  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _triggers_registered() -> bool:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return len(client.read_automations()) >= 3


def test_an_under_review_event_starts_the_served_review_and_the_decision_moves_the_order(
        tmp_path: Path, prefect_server: str):
    from prefect.flow_runs import resume_flow_run

    from flows.runs import paused_runs

    # Given `orderpilot serve` running against the Prefect server and our store
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    pilot = open_shop(str(tmp_path / "shop.db"), risk_check=review_big_orders)
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "ORDERPILOT_DATABASE_URL": db,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    server = subprocess.Popen([sys.executable, "-m", "orderpilot.cli_prefect", "serve",
                               "--poll", "1", "--relay-every", "3600"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for n in range(9):  # order numbers differ from the other tests' orders
            place(pilot, buyer=f"b-{n}")
        order_id = place(pilot, buyer="b-e2e", quantity=2, price=400_000)
        assert pilot.orders.get(order_id).state == "under_review"
        _wait("the served triggers", _triggers_registered)
        # When the relay publishes the order's events
        sent_at = time.monotonic()
        with PrefectHttpSink(prefect_server) as sink:
            drain(pilot.context, sink)
        # Then the trigger starts a review run for this order, which pauses for input
        [run] = _wait("a paused risk-review run", lambda: paused_runs(order_id, "risk-review"))
        started_after = time.monotonic() - sent_at
        assert run.name == f"risk-review-{order_id}"
        # When a reviewer approves
        resume_flow_run(run.id, run_input={"approve": True, "reason": "verified by phone",
                                           "reviewer": "dana"})
        # Then the order moves, with dana recorded as the actor
        _wait("the approval", lambda: pilot.orders.get(order_id).state == "awaiting_payment",
              timeout=30)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    assert pilot.orders.history(order_id)[-1].actor == "reviewer:dana"
    print(f"event → paused review run: {started_after:.1f} s")
