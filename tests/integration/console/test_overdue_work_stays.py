"""An after-sales answer past its SLA stays on the work list with its deadline, marked overdue
(by how much). Before, the work list read the deadline from the timer row, which the sweep
deletes when it fires the SLA: a bounced return or a refund review then showed `no deadline`,
was not counted overdue by the review queue, and looked like the least urgent item."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from integrations.console.casework import REFUND_REVIEW, RETURN_BOUNCED, open_cases
from integrations.console.pages import review_queue
from orderpilot import ManualClock, OrderPilot
from tests.integration.fulfil.conftest import make_pilot
from tests.integration.fulfil.test_lost_return_parcels import delivered_order, return_sent


@pytest.fixture
def shop(any_url: str, clock: ManualClock) -> Iterator[OrderPilot]:
    p = make_pilot(any_url, clock)
    yield p
    p.close()


def test_a_bounced_return_and_a_refund_review_past_their_sla_stay_listed_overdue(shop, clock):
    # Given 2 mugs delivered: a return of one bounced back to the buyer, and a refund-only
    # request on the other held for a person
    order = delivered_order(shop)
    bounced_id, [back] = return_sent(shop, order.id)
    review = shop.cases.open(order.id, kind="refund_only", reason="杯子有裂纹",
                             lines=[{"line_no": 1, "quantity": 1}])
    shop.cases.fire(review.id, "review", actor="system:refund-review")
    requested = clock.now()
    clock.advance(hours=2)
    shop.shipments.fire(back.id, "return_to_sender", reason="拒收")
    bounce = clock.now()
    # When both SLAs (24 h) lapse and the sweep fires them
    clock.advance(hours=25)
    assert shop.sweep(clock.now())["aftersales_sla"] == 2
    # Then both are still on the work list, due when their SLA was
    due = {c.entity: (c.kind, c.due_at) for c in open_cases(shop.context)}
    assert due == {bounced_id: (RETURN_BOUNCED, bounce + timedelta(hours=24)),
                   review.id: (REFUND_REVIEW, requested + timedelta(hours=24))}
    # And the review queue counts them overdue and says by how much
    page = review_queue(open_cases(shop.context), {}, clock.now(), ZoneInfo("Asia/Shanghai"))
    assert "**2** waiting for a person, **2** overdue" in page
    assert "overdue by 1 h 0 min" in page and "overdue by 3 h 0 min" in page
    assert "no deadline" not in page
