"""End to end: `orderpilot serve` as a user runs it (its own process) — a held order becomes
a form in the UI; a reviewer's answer there moves the order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.orchestration.console_kit import paused, wait_for
from tests.integration.orchestration.shop import open_shop, place, review_big_orders

pytestmark = [pytest.mark.prefect, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]


def test_orderpilot_serve_turns_a_held_order_into_a_form_and_applies_the_answer(
        tmp_path: Path, prefect_server: str):
    from prefect.flow_runs import resume_flow_run

    # Given `orderpilot serve` running against the Prefect server and our store
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    pilot = open_shop(str(tmp_path / "shop.db"), risk_check=review_big_orders)
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "ORDERPILOT_DATABASE_URL": db,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    server = subprocess.Popen([sys.executable, "-m", "orderpilot.cli", "serve", "--poll", "0.3"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        # When an order is held for review
        order_id = place(pilot, buyer="b-e2e", quantity=2, price=400_000)
        assert pilot.orders.get(order_id).state == "under_review"
        # Then a suspended review run waits for it (the console's process started cold)
        [run] = wait_for("a suspended review run", lambda: paused(pilot, order_id), timeout=90)
        assert run.name == f"risk-review-{order_id}"
        # When a reviewer approves in the form
        resume_flow_run(run.id, run_input={"decision": "approve", "reason": "verified by phone",
                                           "reviewer": "dana", "blacklist_buyer": False})
        # Then the order moves, with dana recorded as the actor
        wait_for("the approval", lambda: pilot.orders.get(order_id).state == "awaiting_payment")
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    assert pilot.orders.history(order_id)[-1].actor == "reviewer:dana"
    assert server.returncode == 0
