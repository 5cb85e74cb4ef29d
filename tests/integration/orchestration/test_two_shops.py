"""Two stores on one Prefect server (a staging shop beside production): each console names its
pages, case files, deployments and runs for its shop, and works only its own store's runs —
a reviewer never reads the other shop's `o-1`, a decision never lands in the other store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.orchestration.console_kit import paused, running_console, wait_for
from tests.integration.orchestration.shop import open_shop, place, review_big_orders

pytestmark = pytest.mark.prefect


def shop_named(db: Path, name: str | None) -> Any:
    """A store on the SQLite file `db` whose shop is called `name` (None: no name)."""
    from integrations.config import Settings, read_settings

    return open_shop(str(db), risk_check=review_big_orders,
                     settings=read_settings(Settings, shop=name))


def hold_o1(pilot: Any, buyer: str, price: int) -> str:
    order_id = place(pilot, buyer=buyer, quantity=2, price=price)
    assert (order_id, pilot.orders.get(order_id).state) == ("o-1", "under_review")
    return order_id


def latest(client: Any, key: str) -> Any:
    from prefect.client.schemas.filters import (
        ArtifactCollectionFilter,
        ArtifactCollectionFilterKey,
    )

    found = client.read_latest_artifacts(artifact_filter=ArtifactCollectionFilter(
        key=ArtifactCollectionFilterKey(any_=[key])))
    return found[0] if found else None


def events_about(client: Any, resource_id: str) -> list[Any]:
    from prefect.events.filters import EventFilter, EventResourceFilter

    return client.read_events(filter=EventFilter(resource=EventResourceFilter(
        id=[resource_id])), limit=50).events


def state_of(run: Any) -> Any:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(run.id).state


def test_two_named_shops_on_one_server_keep_their_case_files_pages_and_decisions_apart(
        tmp_path: Path, prefect_server: str):
    from prefect.client.orchestration import get_client
    from prefect.flow_runs import resume_flow_run

    from flows.dashboard import run_url

    # Given production and staging, each its own store, each with a held order o-1
    prod = shop_named(tmp_path / "prod.db", "prod")
    staging = shop_named(tmp_path / "staging.db", "staging")
    with running_console(prod) as prod_console, running_console(staging) as staging_console:
        hold_o1(prod, "b-prod", 400_000)
        hold_o1(staging, "b-staging", 300_000)
        # Then each shop has its own review run, deployment and tags
        [prod_run] = wait_for("prod's review run", lambda: paused(prod, "o-1"))
        [staging_run] = wait_for("staging's review run", lambda: paused(staging, "o-1"))
        assert (prod_run.name, staging_run.name) == ("prod-risk-review-o-1",
                                                     "staging-risk-review-o-1")
        assert "shop:prod" in prod_run.tags and "shop:staging" in staging_run.tags
        with get_client(sync_client=True) as client:
            deployments = [client.read_deployment(r.deployment_id).name
                           for r in (prod_run, staging_run)]
            assert deployments == ["prod-risk-review", "staging-risk-review"]
            # and two case files, each on its own shop's run, with its own buyer
            files = {name: wait_for(f"{name}'s case file", lambda n=name, r=run: (
                found := latest(client, f"{n}-order-o-1")) and found.flow_run_id == r.id
                and found) for name, run in (("prod", prod_run), ("staging", staging_run))}
            assert "b-prod" in files["prod"].data and "b-staging" not in files["prod"].data
            assert "b-staging" in files["staging"].data and "b-prod" not in files["staging"].data
            assert "¥8,000.00" in files["prod"].data and "¥6,000.00" in files["staging"].data
            # and each shop's events are about its own order o-1 (two resources, not one)
            for name in ("prod", "staging"):
                events = wait_for(f"{name}'s events", lambda n=name: events_about(
                    client, f"orderpilot.order.{n}-o-1"))
                assert {(e.resource["orderpilot.shop"], e.resource["orderpilot.buyer"])
                        for e in events} == {(name, f"b-{name}")}
            # and each console's review queue lists its own run, not the other's
            prod_console.dashboard_once(client)
            staging_console.dashboard_once(client)
            queues = {name: latest(client, f"{name}-review-queue").data
                      for name in ("prod", "staging")}
        assert run_url(prod_run.id) in queues["prod"]
        assert run_url(staging_run.id) not in queues["prod"]
        assert run_url(staging_run.id) in queues["staging"]
        assert run_url(prod_run.id) not in queues["staging"]
        # When a reviewer rejects staging's o-1 in its form
        resume_flow_run(staging_run.id, run_input={
            "decision": "reject", "reason": "test order", "reviewer": "mei",
            "blacklist_buyer": False})
        wait_for("staging's o-1 rejected", lambda: staging.orders.get("o-1").state == "rejected")
        wait_for("staging's run completed", lambda: state_of(staging_run).is_completed())
        # Then production's o-1 still waits, its form still open
        assert prod.orders.get("o-1").state == "under_review"
        assert state_of(prod_run).name == "Suspended"
        # And production's own answer lands in production only
        resume_flow_run(prod_run.id, run_input={
            "decision": "approve", "reason": "known buyer", "reviewer": "lee",
            "blacklist_buyer": False})
        wait_for("prod's o-1 released", lambda: prod.orders.get("o-1").state ==
                 "awaiting_payment")
    assert staging.orders.get("o-1").state == "rejected"
    assert [h.actor for h in prod.orders.history("o-1")][-1] == "reviewer:lee"
    assert [h.actor for h in staging.orders.history("o-1")][-1] == "reviewer:mei"


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


def test_a_store_given_a_shop_name_later_still_applies_answers_on_its_earlier_runs(
        tmp_path: Path, prefect_server: str):
    from prefect.flow_runs import resume_flow_run

    # Given a store that ran without a shop name, its held o-1 waiting in a form
    db = tmp_path / "renamed.db"
    before = shop_named(db, None)
    hold_o1(before, "b-3", 400_000)
    with running_console(before):
        [old_run] = wait_for("the unnamed store's review run", lambda: paused(before, "o-1"))
    assert old_run.name == "risk-review-o-1"
    # When the store is given a shop name and its console restarted
    after = shop_named(db, "renamed")
    with running_console(after):
        # Then the waiting case keeps its run (the re-drive at start opened no second one)
        assert [run.id for run in paused(after, "o-1")] == [old_run.id]
        # and an answer given there is applied
        resume_flow_run(old_run.id, run_input={"decision": "reject", "reason": "fraud",
                                               "reviewer": "mei", "blacklist_buyer": False})
        wait_for("o-1 rejected", lambda: after.orders.get("o-1").state == "rejected")
        # and a new case gets the new name
        assert place(after, buyer="b-4", quantity=2, price=400_000) == "o-2"
        [new_run] = wait_for("the new review run", lambda: paused(after, "o-2"))
    assert new_run.name == "renamed-risk-review-o-2" and "shop:renamed" in new_run.tags
