"""The console against a real Prefect server: a held order becomes a form, a decision made
anywhere closes its run, nothing is lost across restarts or refused API calls."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.orchestration.console_kit import (
    RefusingProxy,
    paused,
    running_console,
    runs_of,
    wait_for,
)
from tests.integration.orchestration.shop import open_shop, place, review_big_orders

pytestmark = pytest.mark.prefect
ROOT = Path(__file__).resolve().parents[3]


def held_shop(tmp_path: Path) -> Any:
    return open_shop(str(tmp_path / "shop.db"), risk_check=review_big_orders)


def hold(pilot: Any, buyer: str = "b-8") -> str:
    order_id = place(pilot, buyer=buyer, quantity=2, price=400_000)
    assert pilot.orders.get(order_id).state == "under_review"
    return order_id


def form_of(run: Any) -> tuple[dict[str, Any], str]:
    from prefect.client.orchestration import get_client

    keys = run.state.state_details.run_input_keyset
    with get_client(sync_client=True) as client:
        return (json.loads(client.read_flow_run_input(run.id, keys["schema"])),
                json.loads(client.read_flow_run_input(run.id, keys["description"])))


def state_of(run: Any) -> Any:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(run.id).state


def test_a_held_order_becomes_a_form_and_a_reject_there_rejects_it_with_the_reviewer(
        tmp_path: Path, prefect_server: str):
    from prefect.flow_runs import resume_flow_run

    # Given the console running for a shop, and an order the risk engine holds
    pilot = held_shop(tmp_path)
    with running_console(pilot):
        order_id = hold(pilot)
        # Then a suspended run named after the order waits with a form
        [run] = wait_for("a suspended review run", lambda: paused(pilot, order_id))
        assert run.name == f"risk-review-{order_id}" and run.state.name == "Suspended"
        assert {f"order:{order_id}", "kind:risk-review"} <= set(run.tags)
        schema, description = form_of(run)
        assert schema["properties"]["decision"]["enum"] == ["approve", "reject"]
        assert "¥8,000.00" in description and "Decide by" in description
        # When a reviewer rejects in the form
        resume_flow_run(run.id, run_input={"decision": "reject", "reason": "stolen card",
                                           "reviewer": "mei", "blacklist_buyer": True})
        # Then the order is rejected with mei recorded, and the run says so
        wait_for("the rejection", lambda: pilot.orders.get(order_id).state == "rejected")
        closed = wait_for("the run completed", lambda: state_of(run).is_completed() and
                          state_of(run))
    last = pilot.orders.history(order_id)[-1]
    assert (last.trigger, last.actor) == ("reject", "reviewer:mei")
    assert closed.message == "rejected by reviewer:mei: stolen card"
    assert [e.value for e in pilot.risk.blacklist() if e.kind == "buyer"] == ["b-8"]


def test_a_decision_from_the_cli_takes_the_run_out_of_paused_within_seconds(
        tmp_path: Path, prefect_server: str):
    pilot = held_shop(tmp_path)
    with running_console(pilot):
        order_id = hold(pilot)
        [run] = wait_for("a suspended review run", lambda: paused(pilot, order_id))
        # When a reviewer decides from the command line instead of the form
        done = subprocess.run(
            [sys.executable, "-m", "orderpilot.cli", "review", "approve", order_id, "--by",
             "lee", "--reason", "buyer confirmed by phone", "--db",
             f"sqlite:///{tmp_path / 'shop.db'}"], cwd=ROOT, capture_output=True, text=True,
            env={**os.environ, "NO_COLOR": "1"}, timeout=120)
        assert done.returncode == 0, done.stderr
        # Then the run leaves Paused: completed, saying who decided
        final = wait_for("the run closed", lambda: state_of(run).is_completed() and
                         state_of(run), timeout=15)
    assert "approve by lee" in final.message
    assert pilot.orders.get(order_id).state == "awaiting_payment"


def test_five_pending_reviews_survive_a_console_restart_and_answers_given_meanwhile_apply(
        tmp_path: Path, prefect_server: str):
    from prefect.flow_runs import resume_flow_run

    pilot = held_shop(tmp_path)
    with running_console(pilot):
        orders = [hold(pilot, buyer=f"b-{n}") for n in range(5)]
        runs = {o: wait_for(f"the run of {o}", lambda o=o: paused(pilot, o))[0] for o in orders}
    # When the console is down, all five still wait; reviewers answer three of them
    assert all(paused(pilot, o) for o in orders)
    for order_id in orders[:3]:
        resume_flow_run(runs[order_id].id, run_input={
            "decision": "approve", "reason": "ok", "reviewer": "mei", "blacklist_buyer": False})
    # Then a new console applies those three, and the other two are still decidable
    with running_console(pilot):
        wait_for("three approvals", lambda: all(
            pilot.orders.get(o).state == "awaiting_payment" for o in orders[:3]))
        for order_id in orders[3:]:
            assert paused(pilot, order_id)
            resume_flow_run(runs[order_id].id, run_input={
                "decision": "reject", "reason": "no", "reviewer": "lee", "blacklist_buyer": False})
        wait_for("two rejections", lambda: all(
            pilot.orders.get(o).state == "rejected" for o in orders[3:]))


def test_runs_the_server_refused_are_recreated_exactly_once_by_the_redrive(
        tmp_path: Path, prefect_server: str):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    # Given the server refusing every run creation, and three orders held meanwhile
    proxy = RefusingProxy(prefect_server, r"^POST /deployments/[^/]+/create_flow_run")
    pilot = held_shop(tmp_path)
    try:
        with temporary_settings({PREFECT_API_URL: proxy.url, PREFECT_CLIENT_MAX_RETRIES: 0}), \
                running_console(pilot) as console:
            orders = [hold(pilot, buyer=f"b-{n}") for n in range(3)]
            wait_for("three refusals", lambda: console.counts["failed: open risk-review"] >= 3)
            assert all(runs_of(pilot, o) == [] for o in orders)
            # When the server accepts again and the re-drive runs (twice)
            proxy.refusing = False
            with get_client(sync_client=True) as client:
                console.redrive_once(client)
                console.redrive_once(client)
    finally:
        proxy.close()
    # Then every missing run was re-created exactly once
    assert console.counts["recreated"] == 3
    assert all(len(runs_of(pilot, o)) == 1 and paused(pilot, o) for o in orders)
