"""Refund review against a real Prefect server: auto-approval, or a person decides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.orchestration.shop import open_shop, place
from tests.integration.orchestration.test_risk_review_flow import ReviewRun

pytestmark = pytest.mark.prefect


def _paid_order(pilot: Any, buyer: str, price: int) -> str:
    order_id = place(pilot, buyer=buyer, price=price)
    pilot.orders.fire(order_id, "pay", amount=price, payment_ref=f"pay-{order_id}")
    return order_id


class RefundRun(ReviewRun):
    """The refund-review flow in a background thread (paused_run() finds it by its tags)."""

    def __init__(self, order_id: str, case_id: str, url: str):
        from flows.refund_review import refund_review

        super().__init__(order_id, url, case_id=case_id, flow=refund_review,
                         kind="refund-review")


def test_a_small_refund_by_a_returning_buyer_is_refunded_without_a_person(
        tmp_path: Path, prefect_server: str):
    from flows.refund_review import refund_review

    # Given a returning buyer asking for 25.00 back on a paid order
    pilot, url = open_shop(str(tmp_path / "shop.db")), f"sqlite:///{tmp_path / 'shop.db'}"
    _paid_order(pilot, "b-8", 2500)
    order_id = _paid_order(pilot, "b-8", 2500)
    case = pilot.cases.open(order_id, kind="refund_only", reason="arrived broken",
                            lines=[{"line_no": 1, "quantity": 1}])
    # When the refund-review flow runs for the request
    assert refund_review(order_id, case.id, database_url=url) == "refunded"
    # Then the money went back through the gateway, recorded on the order
    assert pilot.orders.get(order_id).refunded == 2500
    assert [h.trigger for h in pilot.orders.history(order_id)][-3:] == \
        ["auto_approve", "refund", "refund"]


def test_a_large_refund_waits_for_a_person_and_their_approval_refunds_it(
        tmp_path: Path, prefect_server: str):
    from prefect.flow_runs import resume_flow_run

    # Given a new buyer's first order of 900.00 and a refund request on it
    pilot, url = open_shop(str(tmp_path / "shop.db")), f"sqlite:///{tmp_path / 'shop.db'}"
    for n in range(3):  # order numbers differ from the other tests' orders
        place(pilot, buyer=f"b-x{n}")
    order_id = _paid_order(pilot, "b-new", 90_000)
    case = pilot.cases.open(order_id, kind="refund_only", reason="never arrived",
                            lines=[{"line_no": 1, "quantity": 1}])
    # When the flow runs, it pauses for a person
    review = RefundRun(order_id, case.id, url)
    run = review.paused_run()
    assert run.name == f"refund-review-{order_id}-{case.id}"
    assert pilot.cases.get(case.id).state == "under_review"
    # When erin approves, the refund goes through
    resume_flow_run(run.id, run_input={"approve": True, "reason": "carrier confirmed loss",
                                       "reviewer": "erin"})
    assert review.finish() == "refunded"
    assert pilot.orders.get(order_id).refunded == 90_000
    assert "reviewer:erin" in [h.actor for h in pilot.orders.history(order_id)]
