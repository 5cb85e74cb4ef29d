"""A paid order with an open chargeback, cancelled: the cancellation does not refund what the
bank is taking back, so the buyer is never paid back twice. Lost, the dispute books it on the
order; won, the money is still owed and listed as a refund owed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from integrations.console.jobs import Ports, settle_cancel
from integrations.ingest.money_events import apply_money_event
from integrations.payments.simulated import SimulatedGateway
from integrations.service.checkout import capture_order
from orderpilot import OrderPilot
from statemachine.ports import MoneyEvent
from statemachine.risk_port import approve_everything
from tests.factories import placed_order, stock


@pytest.mark.parametrize("outcome", ["lost", "won"])
def test_a_cancelled_order_under_dispute_is_not_paid_back_twice(any_url, clock, outcome):
    # Given an order of two ¥35 cups paid through the provider, and the buyer's bank
    # disputing all of it
    gateway = SimulatedGateway(now=clock.now)
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything, gateway=gateway)
    stock(pilot, quantity=5)
    order = placed_order(pilot, quantity=2, unit_price=3_500)
    capture_order(pilot.context, int(order.id[2:]))
    ref = pilot.orders.get(order.id).payment_ref
    dispute = gateway.open_dispute(ref, 7_000)

    def notice(event_id: str, kind: str, **extra: str) -> None:
        apply_money_event(pilot.context, MoneyEvent(
            "simulated", event_id, kind, ref, 7_000, "CNY", clock.now(), order_id=order.id,
            dispute_ref=dispute, **extra))

    notice("e-1", "dispute_opened", reason="fraudulent")
    # When the order is cancelled, the console settles it, and the bank closes the dispute
    cancelled = pilot.orders.fire(order.id, "cancel", reason="买家不要了")
    settled = settle_cancel(pilot.context, Ports(gateway, carrier=None, notify=print),
                            order.id)
    notice("e-2", "dispute_closed", outcome=outcome)
    # Then nothing was refunded on top of the disputed money (before: the cancel refunded
    # ¥70 and the bank took ¥70 more, ¥140 back of ¥70 paid)
    assert (cancelled.refunded, settled) == (0, "nothing to settle")
    assert [r.kind for r in gateway.books] == ["charge", "dispute"]
    final = pilot.orders.get(order.id)
    owed = [o["order_id"] for o in pilot.payments.refunds_owed(clock.now())]
    if outcome == "lost":  # the bank paid the buyer back: booked on the order
        assert (final.refunded, owed) == (7_000, [])
    else:  # the shop kept the money of a cancelled order: owed, listed until paid back
        assert (final.refunded, owed) == (0, [order.id])
    pilot.close()


def test_money_under_an_open_dispute_is_not_listed_as_a_refund_owed(any_url, clock):
    # Given a paid order of ¥70 whose buyer's bank disputes all of it, cancelled and settled
    gateway = SimulatedGateway(now=clock.now)
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything, gateway=gateway)
    stock(pilot, quantity=5)
    order = placed_order(pilot, quantity=2, unit_price=3_500)
    capture_order(pilot.context, int(order.id[2:]))
    ref = pilot.orders.get(order.id).payment_ref
    dispute = gateway.open_dispute(ref, 7_000)
    apply_money_event(pilot.context, MoneyEvent(
        "simulated", "e-1", "dispute_opened", ref, 7_000, "CNY", clock.now(),
        order_id=order.id, dispute_ref=dispute, reason="fraudulent"))
    pilot.orders.fire(order.id, "cancel", reason="买家不要了")
    settle_cancel(pilot.context, Ports(gateway, carrier=None, notify=print), order.id)
    # When ops list the refunds owed 100 h later, the dispute still open
    owed = pilot.payments.refunds_owed(clock.now() + timedelta(hours=100))
    pilot.close()
    # Then the order is not there (before: owed 7000 and overdue, so ops were told to pay back
    # money the bank may already be paying back)
    assert owed == []
