"""A refund-only case approved after its order was cancelled and refunded in full refunds
nothing more: refused at the case, naming why, nothing written — and the console's settle job
closes it saying why, the gateway never asked."""

from __future__ import annotations

import pytest

from statemachine.errors import GuardRejected
from tests.factories import paid_order, stock

ADDRESS = {"line": "广东省广州市天河区黄埔大道18号3栋1201", "recipient": "王芳",
           "phone": "+86 137 1234 5678"}


def test_a_case_cannot_refund_what_a_cancellation_already_refunded(any_pilot):
    # Given a paid order of two ¥35 cups, a refund-only case on one under review, and the
    # order then cancelled (its ¥70 refunded in full) before the case is approved
    stock(any_pilot, quantity=5)
    order = paid_order(any_pilot, quantity=2, unit_price=3_500, shipping_address=ADDRESS)
    case = any_pilot.cases.open(order.id, kind="refund_only",
                                lines=[{"line_no": 1, "quantity": 1}], reason="杯口有缺口")
    any_pilot.cases.fire(case.id, "review")
    any_pilot.orders.fire(order.id, "cancel", reason="买家不要了")
    any_pilot.cases.fire(case.id, "approve", reason="同意")
    # When staff refund the case, it is refused at the case (before: the order's own refund
    # refused it on the single path, and raised out of a whole bulk batch on the replay's)
    with pytest.raises(GuardRejected, match="its order has 0 left to refund"):
        any_pilot.cases.fire(case.id, "refund")
    # Then nothing moved: the case is still approved, the order refunded once
    assert any_pilot.cases.get(case.id).state == "approved"
    assert any_pilot.orders.get(order.id).refunded == 7_000


def test_the_settle_job_does_not_ask_the_gateway_for_what_the_store_would_refuse(any_pilot):
    # Given a refund-only case approved after its order was cancelled and refunded in full
    from integrations.console.jobs import Ports, settle_refund
    from integrations.payments.simulated import AdoptingGateway

    class Counting(AdoptingGateway):
        def __init__(self) -> None:
            super().__init__()
            self.refunds: list[int] = []

        def refund(self, payment_ref, amount, **kwargs):  # noqa: ANN001, ANN003, ANN201
            self.refunds.append(amount)
            return super().refund(payment_ref, amount, **kwargs)

    stock(any_pilot, quantity=5)
    order = paid_order(any_pilot, quantity=2, unit_price=3_500, shipping_address=ADDRESS)
    case = any_pilot.cases.open(order.id, kind="refund_only",
                                lines=[{"line_no": 1, "quantity": 1}], reason="杯口有缺口")
    any_pilot.cases.fire(case.id, "review")
    any_pilot.orders.fire(order.id, "cancel", reason="买家不要了")
    any_pilot.cases.fire(case.id, "approve", reason="同意")
    gateway = Counting()
    # When the console's settle job runs on it
    outcome = settle_refund(any_pilot.context, Ports(gateway=gateway, carrier=None,
                                                     notify=None, retry_delays=(0.01,)), case.id)
    # Then the gateway was never asked to pay (before: asked for ¥35, then the store refused
    # to record it)
    assert gateway.refunds == []
    assert any_pilot.orders.get(order.id).refunded == 7_000
    # And the job answers why nothing was paid, the case closed with that reason (before:
    # GuardRejected raised out of the job, the case left approved as if ¥35 were owed)
    assert outcome.startswith("closed: nothing refunded: its order has 0 left to refund")
    assert any_pilot.cases.get(case.id).state == "closed"
    last = any_pilot.orders.history(order.id)[-1]
    assert (last.entity_id, last.trigger, last.actor) == (case.id, "close",
                                                          "system:refund-review")
    assert last.payload["reason"] == outcome.removeprefix("closed: ")
    # And a second run of the job (an outbox row handled twice) answers the case's state
    assert settle_refund(any_pilot.context, Ports(gateway=gateway, carrier=None, notify=None,
                                                  retry_delays=(0.01,)), case.id) == "closed"
