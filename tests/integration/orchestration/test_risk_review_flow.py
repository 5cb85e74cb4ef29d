"""Risk review: paused for a person's input, resumed programmatically, against a real server."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from statemachine.errors import InvalidTransition
from tests.integration.orchestration.shop import Recorder, open_shop, place, review_big_orders

pytestmark = pytest.mark.prefect


class ReviewRun:
    """The risk-review flow running in a background thread, as a served deployment would."""

    def __init__(self, order_id: str, url: str, flow: Any = None, kind: str = "risk-review",
                 **params: Any):
        from flows.risk_review import risk_review

        self.order_id, self.kind, self.outcome = order_id, kind, None
        params.setdefault("timeout_seconds", 60)  # a failed test must not leave it waiting
        self.thread = threading.Thread(target=self._run, args=(flow or risk_review, url, params),
                                       daemon=True)
        self.thread.start()

    def _run(self, flow: Any, url: str, params: dict[str, Any]) -> None:
        self.outcome = flow(self.order_id, database_url=url, poll_seconds=1, **params)

    def paused_run(self, timeout: float = 30) -> Any:
        """The flow run of this order once it is paused waiting for input."""
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import (
            FlowRunFilter,
            FlowRunFilterState,
            FlowRunFilterStateType,
            FlowRunFilterTags,
        )
        from prefect.client.schemas.objects import StateType

        runs_of_order = FlowRunFilter(  # order numbers repeat across these tests' databases
            tags=FlowRunFilterTags(all_=[f"order:{self.order_id}", f"kind:{self.kind}"]),
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED])))
        deadline = time.monotonic() + timeout
        with get_client(sync_client=True) as client:
            while time.monotonic() < deadline:
                runs = client.read_flow_runs(flow_run_filter=runs_of_order)
                if runs:
                    return runs[0]
                time.sleep(0.2)
        raise AssertionError(f"no paused review run for {self.order_id}")

    def finish(self) -> str | None:
        self.thread.join(timeout=60)
        return self.outcome


def _held_order(tmp_path: Path) -> tuple[Any, str, str]:
    pilot = open_shop(str(tmp_path / "shop.db"), risk_check=review_big_orders)
    place(pilot, buyer="b-5")  # a past order of the same buyer
    order_id = place(pilot, buyer="b-5", quantity=3, price=300_000)
    assert pilot.orders.get(order_id).state == "under_review"
    return pilot, order_id, f"sqlite:///{tmp_path / 'shop.db'}"


def test_a_reviewer_approves_in_the_form_and_the_order_moves_with_the_reviewer_recorded(
        tmp_path: Path, prefect_server: str):
    from prefect.flow_runs import resume_flow_run

    # Given an order held for review and its review run paused for input
    pilot, order_id, url = _held_order(tmp_path)
    review = ReviewRun(order_id, url)
    run = review.paused_run()
    # Then the run is named after the order, tagged, and its artifact shows the reasons
    assert run.name == f"risk-review-{order_id}"
    assert {f"order:{order_id}", "kind:risk-review"} <= set(run.tags)
    # When a reviewer submits the form (approve) from another client
    resume_flow_run(run.id, run_input={"approve": True, "reason": "called the buyer",
                                       "reviewer": "alice", "blacklist_buyer": False})
    # Then the order awaits payment, approved by alice, and the run says so
    assert review.finish() == "approved"
    assert pilot.orders.get(order_id).state == "awaiting_payment"
    last = pilot.orders.history(order_id)[-1]
    assert (last.trigger, last.actor, last.payload["reason"]) == \
        ("approve", "reviewer:alice", "called the buyer")
    # and a second decision from the API is refused clearly
    with pytest.raises(InvalidTransition, match="cannot reject from awaiting_payment"):
        pilot.orders.fire(order_id, "reject", actor="bob")


def test_a_decision_made_elsewhere_first_wins_and_the_run_reports_already_decided(
        tmp_path: Path, prefect_server: str):
    from prefect.flow_runs import resume_flow_run

    # Given a paused review run
    pilot, order_id, url = _held_order(tmp_path)
    review = ReviewRun(order_id, url)
    run = review.paused_run()
    # When bob rejects from the Python API first, then alice approves in the form
    pilot.orders.fire(order_id, "reject", actor="reviewer:bob", reason="stolen card")
    resume_flow_run(run.id, run_input={"approve": True, "reason": "looks fine",
                                       "reviewer": "alice"})
    # Then the run completes as "already decided" and bob's decision stands
    assert review.finish() == "already decided"
    assert pilot.orders.get(order_id).state == "rejected"
    assert [h.actor for h in pilot.orders.history(order_id)].count("reviewer:alice") == 0


def test_a_review_whose_form_times_out_escalates_with_a_tag_and_a_staff_notice(
        tmp_path: Path, prefect_server: str, monkeypatch: pytest.MonkeyPatch):
    from prefect.client.orchestration import get_client

    # Given a staff channel (apprise json:// to a real HTTP server) and a 3 s review SLA
    staff = Recorder()
    monkeypatch.setenv("ORDERPILOT_NOTIFY_STAFF_URLS",
                       json.dumps([f"json://127.0.0.1:{staff.server.server_port}/staff"]))
    pilot, order_id, url = _held_order(tmp_path)
    try:
        # When nobody answers
        review = ReviewRun(order_id, url, timeout_seconds=3)
        run = review.paused_run()
        outcome = review.finish()
    finally:
        staff.close()
    # Then the run escalates: tagged, the staff told once, the order still held
    assert outcome == "escalated"
    with get_client(sync_client=True) as client:
        finished = client.read_flow_run(run.id)
    # (Prefect fails a run whose pause timed out: the UI shows Failed + "escalated")
    assert "escalated" in finished.tags and "never resumed" in finished.state.message
    assert [b["title"] for b in staff.bodies] == [f"Risk review of {order_id} is overdue"]
    assert pilot.orders.get(order_id).state == "under_review"


def test_a_lapsed_review_sla_escalates_the_waiting_run_and_keeps_its_form_open(
        tmp_path: Path, prefect_server: str):
    from prefect.client.orchestration import get_client
    from prefect.flow_runs import resume_flow_run

    from flows.risk_review import review_overdue

    # Given a paused review run and the review SLA lapsed (the sweep's review_overdue signal)
    pilot, order_id, url = _held_order(tmp_path)
    review = ReviewRun(order_id, url)
    run = review.paused_run()
    swept = pilot.sweep(pilot.clock.now() + timedelta(hours=24, minutes=1))
    assert swept["review_sla"] == 1
    # When the review-overdue flow runs for that event
    assert review_overdue(order_id, database_url=url) == "escalated"
    # Then the waiting run is tagged escalated and still accepts a decision
    with get_client(sync_client=True) as client:
        waiting = client.read_flow_run(run.id)
    assert "escalated" in waiting.tags and waiting.state.is_paused()
    resume_flow_run(run.id, run_input={"approve": False, "reason": "no answer from buyer",
                                       "reviewer": "carol", "blacklist_buyer": True})
    assert review.finish() == "rejected"
    assert pilot.orders.get(order_id).state == "rejected"
    # and the buyer is on the blacklist, with this order as evidence and the reviewer recorded
    buyer = pilot.orders.get(order_id).buyer_id
    [entry] = [e for e in pilot.risk.blacklist() if e.kind == "buyer" and e.value == buyer]
    assert (entry.evidence_order_ids, entry.created_by) == ([order_id], "reviewer:carol")
