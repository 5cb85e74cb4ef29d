"""Two stores on one Prefect server: each console works only its own store's runs — a decision
never lands in the other store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.orchestration.console_kit import paused, running_console, wait_for
from tests.integration.orchestration.shop import open_shop, place, review_big_orders

pytestmark = pytest.mark.prefect


def shop_named(db: Path, name: str | None) -> Any:
    """A store on the SQLite file `db` (stores have no name yet: `name` must be None)."""
    assert name is None
    return open_shop(str(db), risk_check=review_big_orders)


def hold_o1(pilot: Any, buyer: str, price: int) -> str:
    order_id = place(pilot, buyer=buyer, quantity=2, price=price)
    assert (order_id, pilot.orders.get(order_id).state) == ("o-1", "under_review")
    return order_id


def state_of(run: Any) -> Any:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(run.id).state


def test_a_console_leaves_another_stores_answered_run_alone_even_on_shared_deployments(
        tmp_path: Path, prefect_server: str):
    """Two stores without a shop name share the deployments (a single store's names, kept):
    the answer to store B's `o-1` was applied by store A's console to A's own `o-1`."""
    from prefect.client.orchestration import get_client
    from prefect.flow_runs import resume_flow_run

    # Given store B's held o-1 waiting in a form its console opened, that console now stopped
    store_a = shop_named(tmp_path / "a.db", None)
    store_b = shop_named(tmp_path / "b.db", None)
    hold_o1(store_b, "b-2", 400_000)
    with running_console(store_b):
        [b_run] = wait_for("store B's review run", lambda: paused(store_b, "o-1"))
    # and store A with a held o-1 of its own and its console running
    with running_console(store_a) as console_a:
        hold_o1(store_a, "b-1", 400_000)
        [a_run] = wait_for("store A's review run", lambda: paused(store_a, "o-1"))
        assert b_run.deployment_id == a_run.deployment_id  # the same, shared deployment
        # When B's reviewer rejects B's o-1 while only A's console runs
        resume_flow_run(b_run.id, run_input={"decision": "reject", "reason": "fraud",
                                             "reviewer": "mei", "blacklist_buyer": False})
        with get_client(sync_client=True) as client:
            handled = console_a.answer_once(client)
        # Then A's o-1 is untouched and B's answer waits for B's console
        assert store_a.orders.get("o-1").state == "under_review"
        assert handled == 0 and state_of(b_run).type.value == "SCHEDULED"
    with running_console(store_b):
        wait_for("B's o-1 rejected", lambda: store_b.orders.get("o-1").state == "rejected")
    assert store_a.orders.get("o-1").state == "under_review"
