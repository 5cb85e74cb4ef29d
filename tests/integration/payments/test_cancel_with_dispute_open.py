"""A paid order with an open chargeback, cancelled: the cancellation does not refund what the
bank is taking back, so the buyer is never paid back twice. Lost, the dispute books it on the
order; won, the money is still owed and listed as a refund owed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from integrations.console.jobs import Ports, settle_cancel
from integrations.db.money_store import MoneyStore
from integrations.ingest.money_events import apply_money_event
from integrations.payments.simulated import SimulatedGateway
from integrations.service.checkout import capture_order
from integrations.service.money_refunds import record_payout, refund_order
from orderpilot import OrderPilot
from statemachine.errors import GuardRejected
from statemachine.money import OperationKind
from statemachine.ports import MoneyEvent
from statemachine.risk_port import approve_everything
from tests.factories import paid_order, placed_order, stock


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


def _partly_charged_back(any_url, clock):
    """A ¥70 order (two ¥35 cups) paid through the default (simulated) provider, ¥30 of it
    charged back by the buyer's bank — the chargeback open."""
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    stock(pilot, quantity=5)
    order = paid_order(pilot, quantity=2, unit_price=3_500)

    def notice(event_id: str, kind: str, **extra: str) -> None:
        apply_money_event(pilot.context, MoneyEvent(
            "simulated", event_id, kind, order.payment_ref, 3_000, "CNY", clock.now(),
            order_id=order.id, dispute_ref=f"dp-{order.id}", **extra))

    notice("e-1", "dispute_opened", reason="fraudulent")
    return pilot, order, notice


def _refund_operations(pilot, order) -> list[tuple[str, int, str]]:
    with pilot.context.tx(readonly=True) as tx:
        return [(o.key, o.amount, o.status.value)
                for o in MoneyStore(tx.store.sql).of_order(int(order.id[2:]))
                if o.kind is OperationKind.REFUND]


def _owed(pilot, clock) -> list[tuple[str, int, str]]:
    return [(r["order_id"], r["owed"], r["kind"])
            for r in pilot.payments.refunds_owed(clock.now())]


@pytest.mark.parametrize("outcome", ["won", "lost"])
def test_a_cancellation_under_a_partial_chargeback_asks_the_provider_for_no_refund(
        any_url, clock, outcome):
    # Given a ¥70 order with ¥30 of it charged back, the chargeback open
    pilot, order, notice = _partly_charged_back(any_url, clock)
    # When the buyer's order is cancelled and the console settles the cancellation
    cancelled = pilot.orders.fire(order.id, "cancel", reason="买家不要了")
    settled = settle_cancel(pilot.context, Ports(pilot.context.gateway, carrier=None,
                                                 notify=print), order.id)
    # Then no refund is recorded for the provider to refuse (before: ¥40 asked for, refused
    # as charge_disputed, a failed refund and staff alerted): the order is cancelled with
    # nothing counted refunded, the ¥40 not disputed left for later, listed as owed
    assert (cancelled.state, cancelled.refunded, settled) == ("cancelled", 0,
                                                               "nothing to settle")
    assert _refund_operations(pilot, order) == []
    [ended] = [h for h in pilot.orders.history(order.id) if h.trigger == "cancel"]
    assert (ended.payload["refund"], ended.payload.get("refund_later"),
            ended.payload.get("disputed")) == (0, 4_000, 3_000)
    assert _owed(pilot, clock) == [(order.id, 4_000, "refund_later")]
    number = int(order.id[2:])
    notice("e-2", "dispute_closed", outcome=outcome)
    if outcome == "won":
        # When the shop wins, the whole ¥70 is owed back, and staff refund it at the provider
        assert _owed(pilot, clock) == [(order.id, 7_000, "refund_later")]
        paid = refund_order(pilot.context, number, 7_000, "订单已取消", "finance:li")
        assert paid.status.value == "succeeded"
    else:
        # When the shop loses, the bank paid ¥30 back (booked); the provider refuses the ¥40
        # for good (charge_disputed), so the store refuses to record it, and staff pay it
        # outside the provider instead
        assert pilot.orders.get(order.id).refunded == 3_000
        assert _owed(pilot, clock) == [(order.id, 4_000, "refund_later")]
        with pytest.raises(GuardRejected, match="was charged back for good"):
            refund_order(pilot.context, number, 4_000, "订单已取消", "finance:li")
        record_payout(pilot.context, number, 4_000, "订单已取消", "finance:li", "银行转账")
    # Then nothing is owed any more, and the order counts all of it given back
    assert _owed(pilot, clock) == []
    assert pilot.orders.get(order.id).refunded == 7_000
    pilot.close()
