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

from tests.fakes.http import PATIENT
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


def latest_artifacts(client: Any, keys: list[str]) -> list[Any]:
    """The latest artifact under each of `keys`, asked by key: the session's Prefect server
    holds every earlier test's pages, more than one unfiltered page of results."""
    from prefect.client.schemas.filters import (
        ArtifactCollectionFilter,
        ArtifactCollectionFilterKey,
    )

    return client.read_latest_artifacts(artifact_filter=ArtifactCollectionFilter(
        key=ArtifactCollectionFilterKey(any_=keys)))


def written_form(run: Any) -> tuple[dict[str, Any], str] | None:
    """The run's form (schema, description) as written now; None while one of them is not
    (a 404). Entering the pause deletes whatever its keyset names, so the console writes the
    form after the run is Suspended (flows/case_runs.py): a run listed as paused a moment ago
    may not have its form yet — read at once, the fresh-clone CI got that 404 once."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import PrefectHTTPStatusError

    keys = run.state.state_details.run_input_keyset
    try:
        with get_client(sync_client=True) as client:
            return (json.loads(client.read_flow_run_input(run.id, keys["schema"])),
                    json.loads(client.read_flow_run_input(run.id, keys["description"])))
    except PrefectHTTPStatusError as error:
        if error.response.status_code != 404:
            raise
        return None


def form_of(run: Any) -> tuple[dict[str, Any], str]:
    """The run's form, once the console has written it."""
    return wait_for(f"the form of {run.name}", lambda: written_form(run))


def rewritten(run: Any) -> str:
    """The run's form description, "" while the console is rewriting it: Prefect has no update
    of a run input, so flows/case_runs.py deletes and creates it, and a read in between is a
    404."""
    form = written_form(run)
    return form[1] if form else ""


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


def test_a_review_opened_while_the_redrive_runs_is_not_closed_as_settled(
        tmp_path: Path, prefect_server: str):
    from prefect.client.orchestration import get_client

    from flows.redrive import redrive

    pilot = held_shop(tmp_path)
    with running_console(pilot) as console, get_client(sync_client=True) as client:
        # Given the re-drive has read which cases are open, and an order is held just after
        # (its run opened by the event-driven side before the re-drive lists the live runs)
        held: list[str] = []

        def meanwhile() -> None:
            held.append(hold(pilot))
            console.follow_once(client)

        counts = redrive(console.desk, client, catch_up=meanwhile)
        # Then its run is left waiting: a case the store has open is never "settled"
        assert counts["closed stale"] == 0
        [run] = paused(pilot, held[0])
    assert run.state.name == "Suspended"


def test_a_refund_a_person_must_decide_is_refunded_after_approval_in_the_form(
        tmp_path: Path, prefect_server: str):
    from prefect.flow_runs import resume_flow_run

    # Given a paid order and a refund request above ¥200 (the rules want a person)
    pilot = open_shop(str(tmp_path / "shop.db"))
    place(pilot, buyer="b-5")  # a returning buyer
    order_id = place(pilot, buyer="b-5", price=30_000)
    pilot.orders.fire(order_id, "pay", amount=30_000, payment_ref="alipay-5")
    with running_console(pilot):
        case = pilot.cases.open(order_id, kind="refund_only", reason="尺码不对",
                                lines=[{"line_no": 1, "quantity": 1}])
        # Then the console triages it to a person: a refund-review run waits
        [run] = wait_for("a refund review run", lambda: paused(pilot, case.id))
        assert run.name == f"refund-review-{order_id}-{case.id}"
        _, description = form_of(run)
        assert "¥300.00" in description and "尺码不对" in description
        # When the reviewer approves, the console refunds through the gateway
        resume_flow_run(run.id, run_input={"decision": "approve", "reason": "size chart wrong",
                                           "reviewer": "mei"})
        wait_for("the refund", lambda: pilot.orders.get(order_id).refunded == 30_000)
    assert pilot.cases.get(case.id).state == "refunded"


def test_a_refund_approved_after_a_cancellation_refunded_everything_closes_the_case_saying_why(
        tmp_path: Path, prefect_server: str):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.flow_runs import resume_flow_run

    # Given a paid order of ¥300 whose refund request waits for a person in the console
    pilot = open_shop(str(tmp_path / "shop.db"))
    place(pilot, buyer="b-6")  # a returning buyer
    order_id = place(pilot, buyer="b-6", price=30_000)
    pilot.orders.fire(order_id, "pay", amount=30_000, payment_ref="alipay-6")
    with running_console(pilot) as console:
        case = pilot.cases.open(order_id, kind="refund_only", reason="杯子碎了",
                                lines=[{"line_no": 1, "quantity": 1}])
        [run] = wait_for("a refund review run", lambda: paused(pilot, case.id))
        # And the order is cancelled meanwhile: its ¥300 goes back with the cancellation
        pilot.orders.fire(order_id, "cancel", reason="买家不要了")
        wait_for("the cancellation's refund", lambda: pilot.orders.get(order_id).refunded)
        # When the reviewer approves the request in the form
        resume_flow_run(run.id, run_input={"decision": "approve", "reason": "photo shows it",
                                           "reviewer": "mei"})
        # Then the run answers that no refund was asked, and why
        closed = wait_for("the run completed", lambda: state_of(run).is_completed() and
                          state_of(run))
        assert closed.message.startswith("approved by reviewer:mei: photo shows it; no refund "
                                         f"asked: case {case.id} cannot refund")
        # And the settle job closes the case, nothing paid, the store's refusal its reason
        # (before: refunds.settle raised GuardRejected, the job failed and the case stayed
        # approved as if ¥300 were still owed)
        wait_for("the case closed", lambda: pilot.cases.get(case.id).state == "closed")
        told = f"refund-review of {case.id}: closed: nothing refunded: its order has 0 left"
        with get_client(sync_client=True) as client:
            lines = wait_for("the answer in the run's log", lambda: [
                log.message for log in client.read_logs(log_filter=LogFilter(
                    flow_run_id=LogFilterFlowRunId(any_=[run.id])))
                if log.message.startswith(told)])
            [case_file] = wait_for("the order's case file", lambda: [
                a for a in latest_artifacts(client, [f"order-{order_id}"])
                if f"| {case.id} | refund_only | closed |" in (a.data or "")])
        failures = {k: n for k, n in console.counts.items()
                    if k.startswith("failed") and (case.id in k or "settle-refund" in k)}
    assert "by a cancellation or another case" in lines[0]
    assert case_file.flow_run_id == run.id
    assert failures == {}
    last = [h for h in pilot.orders.history(order_id) if h.entity == "case"][-1]
    assert (last.trigger, last.actor, last.to_state) == ("close", "system:refund-review",
                                                         "closed")
    assert last.payload["reason"].startswith("nothing refunded: its order has 0 left to refund")
    assert pilot.orders.get(order_id).refunded == 30_000  # paid back once, by the cancellation
    pilot.close()


def test_a_return_bounced_back_to_the_buyer_gets_a_run_whose_new_label_answer_resends_it(
        tmp_path: Path, prefect_server: str):
    from prefect.flow_runs import resume_flow_run

    # Given a delivered order and its return case's parcel on its way back to us
    pilot = open_shop(str(tmp_path / "shop.db"))
    order_id = place(pilot, buyer="b-6")
    pilot.orders.fire(order_id, "pay", amount=2500, payment_ref="alipay-6")
    for trigger in ("start_picking", "pack", "ship"):
        pilot.orders.fire(order_id, trigger)
    for trigger in ("pick_up", "deliver"):
        pilot.shipments.fire("s-1", trigger)
    case = pilot.cases.open(order_id, kind="return_refund", reason="七天无理由退货",
                            lines=[{"line_no": 1, "quantity": 1}])
    for trigger in ("auto_approve", "await_return"):
        pilot.cases.fire(case.id, trigger)
    [back] = [s for s in pilot.shipments.of_order(order_id) if s.purpose == "return"]
    pilot.shipments.fire(back.id, "pick_up", location="上海转运中心")
    with running_console(pilot):
        # When the carrier sends it back to the buyer
        pilot.shipments.fire(back.id, "return_to_sender", reason="地址不详，退回寄件人")
        # Then a return-bounced run waits for a person, saying what came back and why
        [run] = wait_for("a return-bounced run", lambda: paused(pilot, case.id))
        assert run.name == f"return-bounced-{order_id}-{case.id}"
        _, description = form_of(run)
        assert "Return bounced" in description and "地址不详" in description
        # When operations send a new label from the form, the case awaits the goods again
        resume_flow_run(run.id, run_input={"action": "new_label", "note": "地址已更正",
                                           "operator": "lee"})
        wait_for("the new label", lambda: pilot.cases.get(case.id).state == "awaiting_return")
        wait_for("the run closed", lambda: paused(pilot, case.id) == [])
    backs = [s for s in pilot.shipments.of_order(order_id) if s.purpose == "return"]
    # And the new label's waybill was bought through the console's carrier adapter (before:
    # our own number, c-1-R1 again, and no carrier asked)
    assert [(s.carrier, s.tracking_no[:12], s.state) for s in backs] == [
        ("sim-express", "c-1-R1", "returned_to_sender"),
        ("sim-express", "SIM-EXPRESS-", "label_created")]


def test_a_stalled_parcel_chased_again_keeps_its_one_run_which_closes_at_the_next_scan(
        tmp_path: Path, prefect_server: str):
    from prefect.client.orchestration import get_client
    from prefect.flow_runs import resume_flow_run

    pilot = open_shop(str(tmp_path / "shop.db"))
    order_id = place(pilot, buyer="b-3")
    pilot.orders.fire(order_id, "pay", amount=2500, payment_ref="wxpay-3")
    for trigger in ("start_picking", "pack", "ship"):
        pilot.orders.fire(order_id, trigger)
    with running_console(pilot) as console:
        # When the carrier never picks the parcel up
        assert pilot.sweep(pilot.clock.advance(hours=73))["pickup_due"] == 1
        [run] = wait_for("a stall run", lambda: paused(pilot, "s-1"))
        assert run.name == f"stall-{order_id}-s-1"
        # and operations ask the carrier once more from the form
        resume_flow_run(run.id, run_input={"action": "chase_again", "note": "call the depot",
                                           "operator": "lee"})
        # Then the same run waits again, saying what was done, and the re-drive adds none
        again = wait_for("the run suspended again", lambda: [
            r for r in paused(pilot, "s-1") if len(r.empirical_policy.pause_keys or ()) == 2])
        assert [r.id for r in again] == [run.id]
        _, description = form_of(again[0])
        assert description.startswith("> **Done:** chased again by ops:lee: ticket ")
        with get_client(sync_client=True) as client:
            console.redrive_once(client)
        assert console.counts["recreated"] == 0 and len(runs_of(pilot, "s-1")) == 1
        # When the carrier scans it after all, the run closes by itself
        pilot.shipments.fire("s-1", "pick_up", location="上海转运中心")
        final = wait_for("the stall run closed", lambda: state_of(run).is_completed() and
                         state_of(run), timeout=15)
    assert "pick_up" in final.message


def test_a_refund_request_past_its_sla_keeps_its_one_waiting_run_through_redrive_passes(
        tmp_path: Path, prefect_server: str):
    from prefect.client.orchestration import get_client

    # Given a refund request a person must decide, left past its 24 h SLA while the console
    # was down (the sweep announced it)
    pilot = open_shop(str(tmp_path / "shop.db"))
    place(pilot, buyer="b-5")
    order_id = place(pilot, buyer="b-5", price=30_000)
    pilot.orders.fire(order_id, "pay", amount=30_000, payment_ref="alipay-5")
    case = pilot.cases.open(order_id, kind="refund_only", reason="尺码不对",
                            lines=[{"line_no": 1, "quantity": 1}])
    pilot.cases.fire(case.id, "review")
    assert pilot.sweep(pilot.clock.advance(hours=25))["aftersales_sla"] == 1
    # When the console starts (one re-drive) and the re-drive passes three more times
    with running_console(pilot) as console, get_client(sync_client=True) as client:
        for _ in range(3):
            console.redrive_once(client)
    # Then the case has one run, still waiting for a person: the later passes found it
    [run] = runs_of(pilot, case.id)
    assert run.state.is_paused() and f"episode:{case.id}" in run.tags
    assert console.counts["recreated"] == 1


def test_the_review_queue_page_lists_each_waiting_case_with_a_link_to_its_run(
        tmp_path: Path, prefect_server: str):
    from prefect.client.orchestration import get_client

    from flows.dashboard import run_url

    pilot = held_shop(tmp_path)
    with running_console(pilot) as console:
        orders = [hold(pilot, buyer=f"b-{n}") for n in range(2)]
        runs = [wait_for("a run", lambda o=o: paused(pilot, o))[0] for o in orders]
        with get_client(sync_client=True) as client:
            console.dashboard_once(client)
            [queue] = latest_artifacts(client, ["review-queue"])
            [health] = latest_artifacts(client, ["shop-health"])
            # and each order's case file is published on its run once its form is up (keys
            # are per Prefect server: an earlier test's shop left its own `order-o-1`)
            wanted = {(f"order-{o}", run.id) for o, run in zip(orders, runs, strict=True)}

            def case_files() -> list[Any]:
                found = [a for a in latest_artifacts(client, [k for k, _ in wanted])
                         if (a.key, a.flow_run_id) in wanted]
                return found if len(found) == len(wanted) else []

            files = wait_for("the orders' case files", case_files)
    assert all(a.data.startswith("# o-") and "under_review" in a.data for a in files)
    for order_id, run in zip(orders, runs, strict=True):
        assert f"[{order_id}]({run_url(run.id)})" in queue.data
    assert "**2** waiting for a person" in queue.data and "¥8,000.00" in queue.data
    assert "| under_review | 2 |" in health.data


def test_the_review_flow_run_by_prefects_engine_suspends_and_applies_the_answer(
        tmp_path: Path, prefect_server: str):
    from prefect.client.orchestration import get_client
    from prefect.exceptions import Pause
    from prefect.flow_engine import run_flow
    from prefect.flow_runs import resume_flow_run

    from deployments.console import register_deployments
    from flows.cases import risk_review

    # Given a held order and a run of the risk-review deployment (as a worker would get it)
    pilot, url = held_shop(tmp_path), f"sqlite:///{tmp_path / 'shop.db'}"
    order_id = hold(pilot)
    params = {"order_id": order_id, "database_url": url}
    with get_client(sync_client=True) as client:
        run = client.create_flow_run_from_deployment(register_deployments()["risk-review"],
                                                     parameters=params)
        # When the engine runs it, it suspends with the form and leaves its process
        with pytest.raises(Pause):
            run_flow(risk_review, flow_run=run, parameters=params)
        assert client.read_flow_run(run.id).state.name == "Suspended"
        # When a reviewer answers, and the engine runs it again (as after a reschedule)
        resume_flow_run(run.id, run_input={"decision": "approve", "reason": "called",
                                           "reviewer": "kai", "blacklist_buyer": False})
        outcome = run_flow(risk_review, flow_run=client.read_flow_run(run.id),
                           parameters=params)
    # Then the answer is applied
    assert outcome == "approved by reviewer:kai: called"
    assert pilot.orders.get(order_id).state == "awaiting_payment"


def test_the_metrics_endpoint_counts_what_the_console_did_and_what_waits(
        tmp_path: Path, prefect_server: str):
    import httpx

    from tests.integration.integ.server import free_port

    pilot, port = held_shop(tmp_path), free_port()
    with running_console(pilot, metrics_port=port):
        order_id = hold(pilot)
        wait_for("a run", lambda: paused(pilot, order_id))
        opened = 'orderpilot_console_runs_total{action="opened"} 1.0'
        text = wait_for("the opened run counted", lambda: (
            page := httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=PATIENT).text)
            and opened in page and page)
    assert 'orderpilot_review_queue{kind="risk-review"} 1.0' in text
    assert 'orderpilot_transitions_total{entity="order",trigger="review"} 1.0' in text


def test_an_automation_action_the_server_failed_is_reported_by_the_redrive_and_ops_told(
        tmp_path: Path, prefect_server: str, monkeypatch: pytest.MonkeyPatch):
    import uuid
    from datetime import UTC, datetime

    from prefect.client.orchestration import get_client
    from prefect.events.actions import RunDeployment
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    from integrations.events.relay import PrefectHttpSink
    from tests.integration.orchestration.shop import Recorder

    # Given an automation of a shop's own whose action cannot succeed (its deployment is gone)
    name = f"orderpilot.test.{uuid.uuid4().hex[:8]}"
    with get_client(sync_client=True) as client:
        client.create_automation(AutomationCore(
            name=f"broken {name}", trigger=EventTrigger(expect={name}, posture=Posture.Reactive,
                                                       threshold=1),
            actions=[RunDeployment(source="selected", deployment_id=uuid.uuid4())]))
    staff = Recorder()
    monkeypatch.setenv("ORDERPILOT_NOTIFY_ROUTES", json.dumps(
        {"ops": [f"json://127.0.0.1:{staff.server.server_port}/staff"]}))
    pilot = held_shop(tmp_path)
    try:
        with running_console(pilot) as console:
            # When its event arrives and the automation fires
            with PrefectHttpSink(prefect_server) as sink:
                sink.publish([{"id": str(uuid.uuid4()), "event": name,
                               "occurred": datetime.now(UTC).isoformat(),
                               "resource": {"prefect.resource.id": "orderpilot.test"}}])
            # Then the re-drive notices the failed action, counts it and tells ops once
            def reported() -> bool:
                with get_client(sync_client=True) as client:
                    console.redrive_once(client)
                return console.counts["automation actions failed"] >= 1
            wait_for("the failed action reported", reported, timeout=60)
            wait_for("the ops notice", lambda: staff.bodies)
            with get_client(sync_client=True) as client:
                console.redrive_once(client)  # the same failure again in the window: not re-sent
    finally:
        staff.close()
    assert [b["title"] for b in staff.bodies] == ["1 Prefect automation action(s) failed"]
    assert staff.bodies[0]["message"].startswith("Prefect could not carry out: ")


def test_a_review_past_its_sla_is_tagged_escalated_and_the_staff_told(
        tmp_path: Path, prefect_server: str, monkeypatch: pytest.MonkeyPatch):
    from tests.integration.orchestration.shop import Recorder

    staff = Recorder()
    monkeypatch.setenv("ORDERPILOT_NOTIFY_ROUTES", json.dumps(  # the one notification setting
        {"ops": [f"json://127.0.0.1:{staff.server.server_port}/staff"]}))
    pilot = held_shop(tmp_path)
    try:
        with running_console(pilot):
            order_id = hold(pilot)
            wait_for("a review run", lambda: paused(pilot, order_id))
            # When the review SLA (24 h) lapses and the sweep announces it
            assert pilot.sweep(pilot.clock.advance(hours=25))["review_sla"] == 1
            # Then the waiting run is tagged escalated, still waiting, and the staff told once
            [run] = wait_for("the escalation", lambda: [
                r for r in paused(pilot, order_id) if "escalated" in r.tags])
            wait_for("the staff notice", lambda: staff.bodies)
    finally:
        staff.close()
    # (a failed automation action of an earlier test on the shared server may be told too)
    assert [b["title"] for b in staff.bodies if "automation" not in b["title"]] == \
        [f"risk-review of {order_id} is overdue"]


def test_an_address_corrected_under_review_is_said_above_the_waiting_form(
        tmp_path: Path, prefect_server: str):
    # Given the console running for a shop, and an order waiting in its form
    pilot = held_shop(tmp_path)
    with running_console(pilot):
        order_id = hold(pilot, buyer="b-11")
        [run] = wait_for("a suspended review run", lambda: paused(pilot, order_id))
        assert "Address corrected" not in form_of(run)[1]
        # When ops correct its address while it waits
        pilot.orders.correct_address(order_id, by="ops:mei", address={
            "province": "上海市", "city": "上海市", "district": "黄浦区",
            "street": "南京东路100号"})
        # Then the same run's description says so (before: the address as placed), its form
        # unchanged and still waiting for the reviewer
        described = wait_for("the description written again", lambda: [
            d for r in paused(pilot, order_id) if "## Address corrected" in (d := rewritten(r))])
        assert described[0].startswith("> **Updated:** address corrected by ops:mei.")
        assert "Ships to CN 上海市 黄浦区" in described[0]
        [again] = paused(pilot, order_id)
        assert again.id == run.id
        assert form_of(again)[0]["properties"]["decision"]["enum"] == ["approve", "reject"]
    pilot.close()
