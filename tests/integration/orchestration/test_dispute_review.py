"""A chargeback answered in the Prefect UI, against a real Prefect server, on both stores: the
dispute becomes a suspended run showing the evidence (masked) with a form; the answer goes to
the provider once; an answer given elsewhere, or a due date that passed, sends nothing."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from integrations.ingest.money_events import apply_money_event
from orderpilot import OrderPilot
from statemachine.ports import MoneyEvent
from statemachine.risk_port import approve_everything
from tests.integration.console.disputes import CountingGateway, disputed_order
from tests.integration.orchestration.console_kit import paused, running_console, wait_for
from tests.integration.orchestration.test_console import form_of, state_of

pytestmark = pytest.mark.prefect
NOTE = "顺丰签收记录齐全"


@pytest.fixture
def shop(any_url: str, clock: Any):
    gateway = CountingGateway(now=clock.now)
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything, gateway=gateway)
    yield pilot, gateway
    pilot.close()


def answer(decision: str, **extra: str) -> dict[str, str]:
    return {"decision": decision, "note": NOTE, "reviewer": "李娜", **extra}


def closed(run: Any) -> Any:
    return wait_for("the run completed", lambda: state_of(run).is_completed() and
                    state_of(run), timeout=20)


def artifact_of(run: Any, key: str) -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
    )

    with get_client(sync_client=True) as client:
        [found] = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=[key]), flow_run_id=ArtifactFilterFlowRunId(any_=[run.id])))
    return str(found.data)


def test_a_dispute_becomes_a_form_and_a_submit_there_sends_the_evidence_once(
        shop, prefect_server: str):
    from prefect.flow_runs import resume_flow_run

    pilot, gateway = shop
    with running_console(pilot, gateway=gateway):
        # Given the provider reports a chargeback whose evidence is due in 7 days
        order_id, dispute_id, ref = disputed_order(pilot, gateway)
        # Then a suspended run named after the order and dispute waits with the form
        [run] = wait_for("a suspended dispute run", lambda: paused(pilot, dispute_id))
        assert run.name == f"dispute-review-{order_id}-{dispute_id}"
        assert {f"order:{order_id}", "kind:dispute-review"} <= set(run.tags)
        schema, description = form_of(run)
        assert schema["properties"]["decision"]["enum"] == ["submit", "accept"]
        assert "default" not in schema["properties"]["decision"]
        assert {"decision", "note", "reviewer"} <= set(schema["required"])
        # showing the evidence as prepared, the buyer's name, street and phone masked
        assert pilot.disputes.get(dispute_id)["state"] == "evidence_due"
        shown = artifact_of(run, f"dispute-review-{dispute_id}")
        for text in (description, shown):
            assert "SF1234567890" in text and "来电确认收到龙井茶" in text
            assert not any(pii in text for pii in ("张伟", "文三路", "13987654321"))
        # and the form lapses at the due date (Prefect refuses a later resume)
        expires = run.state.state_details.pause_timeout
        assert abs(expires - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=2)
        # When the reviewer submits in the form
        resume_flow_run(run.id, run_input=answer("submit", extra_text="买家本人签收"))
        final = closed(run)
    # Then the provider got the evidence once under our key, and the history has the reviewer
    assert [c[:3] for c in gateway.dispute_calls] == [
        ("evidence", ref, f"evidence:{dispute_id}")]
    assert gateway.dispute_calls[0][3]["uncategorized_text"].endswith("买家本人签收")
    assert final.message == f"submitted by reviewer:李娜: {NOTE}"
    [step] = [h for h in pilot.orders.history(order_id) if h.trigger == "submit"]
    assert (step.actor, step.payload["note"]) == ("reviewer:李娜", NOTE)


def test_an_accept_in_the_form_concedes_and_books_the_chargeback(shop, prefect_server: str):
    from prefect.flow_runs import resume_flow_run

    pilot, gateway = shop
    with running_console(pilot, gateway=gateway):
        order_id, dispute_id, ref = disputed_order(pilot, gateway)
        [run] = wait_for("a suspended dispute run", lambda: paused(pilot, dispute_id))
        resume_flow_run(run.id, run_input=answer("accept"))
        final = closed(run)
    assert final.message == f"accepted by reviewer:李娜: {NOTE}"
    assert [c[0] for c in gateway.dispute_calls] == ["accept"]
    assert pilot.disputes.get(dispute_id)["state"] == "accepted"
    assert pilot.orders.get(order_id).refunded == 29_900


def test_a_dispute_answered_from_the_api_meanwhile_closes_its_run_and_is_not_sent_again(
        shop, prefect_server: str):
    from prefect.exceptions import NotPausedError
    from prefect.flow_runs import resume_flow_run

    pilot, gateway = shop
    with running_console(pilot, gateway=gateway):
        _, dispute_id, _ = disputed_order(pilot, gateway)
        [run] = wait_for("a suspended dispute run", lambda: paused(pilot, dispute_id))
        # When finance submits from the Python API (or the CLI) while the form waits
        pilot.disputes.submit(dispute_id, by="finance:li")
        # Then the run closes, saying who answered
        final = closed(run)
        assert final.message == "closed: submit by finance:li"
        # And a late answer in the form cannot send anything
        with pytest.raises(NotPausedError):
            resume_flow_run(run.id, run_input=answer("accept"))
    assert [c[0] for c in gateway.dispute_calls] == ["evidence"]
    assert pilot.disputes.get(dispute_id)["state"] == "submitted"


def test_an_answer_given_while_the_console_was_down_is_not_applied_over_the_api_one(
        shop, prefect_server: str):
    from prefect.flow_runs import resume_flow_run

    pilot, gateway = shop
    with running_console(pilot, gateway=gateway):
        _, dispute_id, _ = disputed_order(pilot, gateway)
        [run] = wait_for("a suspended dispute run", lambda: paused(pilot, dispute_id))
    # Given, while the console is down, finance submits from the API and a reviewer concedes
    # in the form
    pilot.disputes.submit(dispute_id, by="finance:li")
    resume_flow_run(run.id, run_input=answer("accept"))
    # When the console comes back
    with running_console(pilot, gateway=gateway):
        final = closed(run)
    # Then the concession was not sent: the run says the dispute was answered elsewhere
    assert final.message in ("closed: submit by finance:li",
                             f"nothing sent: {dispute_id} was already submitted (answered "
                             "elsewhere)")
    assert [c[0] for c in gateway.dispute_calls] == ["evidence"]
    assert pilot.disputes.get(dispute_id)["state"] == "submitted"


def test_at_the_due_date_the_run_closes_unanswered_and_nothing_is_submitted(
        shop, prefect_server: str):
    from prefect.client.orchestration import get_client

    pilot, gateway = shop
    with running_console(pilot, gateway=gateway) as console:
        _, dispute_id, _ = disputed_order(pilot, gateway, due_in=timedelta(hours=1))
        [run] = wait_for("a suspended dispute run", lambda: paused(pilot, dispute_id))
        # When the due date passes with nobody answering, and the re-drive looks
        pilot.clock.advance(hours=1, seconds=1)
        with get_client(sync_client=True) as client:
            console.redrive_once(client)
        final = closed(run)
    # Then the run is closed saying nothing was sent, and the dispute is left to the bank
    assert final.message.startswith("closed by the re-drive: nothing was submitted: the "
                                    "evidence was due by")
    assert gateway.dispute_calls == []
    assert pilot.disputes.get(dispute_id)["state"] == "evidence_due"
    assert console.counts["recreated"] == 0


def test_prefect_refuses_an_answer_given_after_the_form_lapsed(shop, prefect_server: str):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.responses import SetStateStatus

    from flows.case_runs import answer_of

    pilot, gateway = shop
    with running_console(pilot, gateway=gateway), get_client(sync_client=True) as client:
        # Given a dispute due in 3 seconds (the form lapses with it)
        _, dispute_id, _ = disputed_order(pilot, gateway, due_in=timedelta(seconds=3))
        [run] = wait_for("a suspended dispute run", lambda: paused(pilot, dispute_id))
        time.sleep(max(0.0, (run.state.state_details.pause_timeout -
                             datetime.now(UTC)).total_seconds()) + 0.5)
        # When a reviewer answers after that (the UI's call, as it reaches the server)
        result = client.resume_flow_run(run.id, run_input=answer("submit"))
        # Then the server refuses it: the pause had timed out (REJECT; this call fails the
        # run), or Prefect's pause-expiry service (every 5 s) had failed the run already
        # (ABORT: not paused). Asked directly, not through `prefect.flow_runs.
        # resume_flow_run`: that reads the state first and returns silently on an ABORT, so
        # the service failing the run between its read and its POST looked like an accepted
        # answer ("DID NOT RAISE")
        assert result.status in (SetStateStatus.REJECT, SetStateStatus.ABORT), result
        final = client.read_flow_run(run.id)
        assert final.state.is_failed() and "never resumed" in final.state.message
        # and kept no answer under its form for the console to apply
        assert final.empirical_policy.pause_keys and answer_of(client, final) is None
    assert gateway.dispute_calls == []


def test_a_run_opened_as_the_due_date_passes_is_closed_not_given_a_form_that_outlives_it(
        shop, prefect_server: str):
    from prefect.client.orchestration import get_client

    from deployments.console import register_deployments
    from flows.desk import Desk
    from flows.wiring import ports
    from integrations.console.casework import DISPUTE_REVIEW, open_case

    pilot, gateway = shop
    desk = Desk(pilot.context, ports(pilot.context), register_deployments())
    # Given a dispute read as open a moment before its due date (the console reads the case,
    # then creates and suspends its run: the re-drive, a new outbox row, an answer applied)
    _, dispute_id, _ = disputed_order(pilot, gateway, due_in=timedelta(hours=1))
    case = open_case(pilot.context, DISPUTE_REVIEW, dispute_id)
    assert case is not None
    # When the due date passes before the run is suspended
    pilot.clock.advance(hours=1, seconds=1)
    with get_client(sync_client=True) as client:
        run, _ = desk.open(client, case)
        final = client.read_flow_run(run.id).state
    # Then the run is closed saying why, with no form a reviewer could still answer (it was
    # suspended with a pause of one second: a resume after the due date was accepted)
    assert not final.is_paused(), final.state_details.pause_timeout
    assert final.is_completed() and final.message.startswith("closed: nothing was submitted")
    assert gateway.dispute_calls == []


def test_a_run_closed_at_once_as_its_due_date_passed_is_not_counted_as_opened(
        shop, prefect_server: str):
    """The console's "opened" and the re-drive's "recreated" count what `Desk.open` says it
    opened (a form waiting: tests/integration/orchestration/test_console.py's metrics)."""
    from prefect.client.orchestration import get_client

    from deployments.console import register_deployments
    from flows.desk import Desk
    from flows.wiring import ports
    from integrations.console.casework import DISPUTE_REVIEW, open_case

    pilot, gateway = shop
    desk = Desk(pilot.context, ports(pilot.context), register_deployments())
    # Given a dispute read as open a moment before its due date
    _, dispute_id, _ = disputed_order(pilot, gateway, due_in=timedelta(hours=1))
    case = open_case(pilot.context, DISPUTE_REVIEW, dispute_id)
    assert case is not None
    # When the due date passes before the console opens its run
    pilot.clock.advance(hours=1, seconds=1)
    with get_client(sync_client=True) as client:
        run, opened = desk.open(client, case)
        final = client.read_flow_run(run.id).state
    # Then the run, closed at once, is not counted as opened
    assert final.is_completed() and final.message.startswith("closed: ")
    assert opened is False


def test_a_case_whose_form_lapsed_keeps_its_one_closed_run_through_later_redrive_passes(
        shop, prefect_server: str):
    """One run per case episode: a run the console closed because its form could no longer be
    answered is the episode's run, found and left by the passes after it (before: each pass
    took it for a lost one and opened another under the next key, closed at once again)."""
    from prefect.client.orchestration import get_client

    from deployments.console import register_deployments
    from flows.desk import Desk
    from flows.redrive import redrive
    from flows.wiring import ports
    from tests.integration.orchestration.console_kit import runs_of

    pilot, gateway = shop
    desk = Desk(pilot.context, ports(pilot.context), register_deployments())
    # Given a dispute still open in the store, with less than a second left to answer it (no
    # form can be shown for it) and no run yet: the console was down
    _, dispute_id, _ = disputed_order(pilot, gateway, due_in=timedelta(hours=1))
    pilot.clock.advance(minutes=59, seconds=59, milliseconds=500)
    # When the re-drive passes three times
    with get_client(sync_client=True) as client:
        passes = [redrive(desk, client) for _ in range(3)]
    # Then the first opened one run and closed it saying why; the later passes left it
    [run] = runs_of(pilot, dispute_id)
    assert run.state.is_completed() and run.state.message.startswith("closed: ")
    assert "lapsed" in run.tags
    assert [p["recreated"] for p in passes] == [0, 0, 0]


def test_the_dispute_flow_run_by_prefects_engine_suspends_until_the_due_date_and_submits(
        any_url: str, live_clock: Any, prefect_server: str, monkeypatch: pytest.MonkeyPatch):
    from prefect.client.orchestration import get_client
    from prefect.exceptions import Pause
    from prefect.flow_engine import run_flow
    from prefect.flow_runs import resume_flow_run

    from deployments.console import register_deployments
    from flows import wiring
    from flows.cases import dispute_review

    # Given a dispute (on the wall clock: the flow builds its own context) and a run of the
    # dispute-review deployment, as a worker would get it
    gateway = CountingGateway(now=live_clock.now)
    monkeypatch.setattr(wiring, "payment_gateway", lambda: gateway)
    pilot = OrderPilot(any_url, clock=live_clock, risk_check=approve_everything,
                       gateway=gateway)
    order_id, dispute_id, ref = disputed_order(pilot, gateway)
    params = {"order_id": order_id, "dispute_id": dispute_id, "database_url": any_url}
    with get_client(sync_client=True) as client:
        run = client.create_flow_run_from_deployment(
            register_deployments()["dispute-review"], parameters=params)
        # When the engine runs it, it prepares the evidence, shows it and suspends
        with pytest.raises(Pause):
            run_flow(dispute_review, flow_run=run, parameters=params)
        suspended = client.read_flow_run(run.id).state
        assert suspended.name == "Suspended"
        assert abs(suspended.state_details.pause_timeout - (datetime.now(UTC) + timedelta(
            days=7))) < timedelta(minutes=2)
        assert pilot.disputes.get(dispute_id)["state"] == "evidence_due"
        assert "SF1234567890" in artifact_of(run, f"dispute-review-{dispute_id}")
        # When a reviewer submits, and the engine runs it again
        resume_flow_run(run.id, run_input=answer("submit"))
        outcome = run_flow(dispute_review, flow_run=client.read_flow_run(run.id),
                           parameters=params)
    # Then the evidence went to the provider once
    assert outcome == f"submitted by reviewer:李娜: {NOTE}"
    assert [c[:3] for c in gateway.dispute_calls] == [
        ("evidence", ref, f"evidence:{dispute_id}")]
    assert pilot.disputes.get(dispute_id)["state"] == "submitted"
    pilot.close()


def inquiry_then(pilot: OrderPilot, gateway: CountingGateway, kind: str, **extra: Any) -> str:
    """The simulated provider's news of dispute `sim-inq-1` on o-1 (opened once)."""
    order = pilot.orders.get("o-1")
    now = pilot.clock.now()
    kind_of = {"dispute_opened": "inquiry", "dispute_updated": "chargeback"}
    apply_money_event(pilot.context, MoneyEvent(
        "simulated", f"evt-{kind}", kind, order.payment_ref, 29_900, "CNY", now,
        order_id="o-1", dispute_ref="sim-inq-1", reason="fraudulent",
        dispute_kind=kind_of[kind], due_by=now + timedelta(days=7), **extra))
    return "d-2"


def test_an_inquiry_escalated_to_a_chargeback_closes_the_inquirys_run_and_asks_afresh(
        shop, prefect_server: str):
    from prefect.exceptions import NotPausedError
    from prefect.flow_runs import resume_flow_run

    pilot, gateway = shop
    # (no re-drive in this console: what the outbox says must be enough)
    with running_console(pilot, gateway=gateway):
        disputed_order(pilot, gateway)  # o-1, its own chargeback d-1
        # Given the buyer's bank asks about the payment first: an inquiry with its form
        dispute_id = inquiry_then(pilot, gateway, "dispute_opened")
        [asked] = wait_for("the inquiry's form", lambda: paused(pilot, dispute_id))
        assert f"episode:{dispute_id}-inquiry" in asked.tags
        # When the bank turns the inquiry into a chargeback
        inquiry_then(pilot, gateway, "dispute_updated")
        assert pilot.disputes.get(dispute_id)["kind"] == "chargeback"
        # Then the inquiry's run is closed at once, saying why (before: it stayed paused,
        # its form answering an inquiry that was no more, until a re-drive noticed)
        final = closed(asked)
        assert final.message == "closed: escalate by provider:simulated"
        # And the chargeback waits in a form of its own
        [fresh] = wait_for("the chargeback's form", lambda: [
            r for r in paused(pilot, dispute_id) if f"episode:{dispute_id}" in r.tags])
        assert fresh.id != asked.id
        # And the inquiry's form takes no answer any more
        with pytest.raises(NotPausedError):
            resume_flow_run(asked.id, run_input=answer("submit"))
    assert gateway.dispute_calls == []
