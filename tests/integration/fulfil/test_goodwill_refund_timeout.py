"""`money_refunds.refund_order` (a goodwill refund, not tied to a case) whose provider call
times out: the refund is recorded before the call, so it is answered pending with its key and
the timeout as its error, for the money sweep to pay once. Before, TransientPaymentError was
raised over the recorded refund: its generated key (`refund:o-1:N`) never reached the caller,
a retry without a key recorded `refund:o-1:N+1`, and the sweep paid both. Both stores."""

from __future__ import annotations

from integrations.db.money_store import MoneyStore
from integrations.service.money_refunds import refund_order
from orderpilot import OrderPilot
from statemachine.risk_port import approve_everything
from tests.integration.fulfil.conftest import make_pilot
from tests.integration.fulfil.test_case_refund_api import Unreachable
from tests.integration.fulfil.test_lost_return_parcels import delivered_order


def timing_out(url: str, clock) -> tuple[OrderPilot, str]:
    """A delivered order (seeded through a provider that answers) and a pilot whose provider
    times out on every refund."""
    seed = make_pilot(url, clock)
    order = delivered_order(seed)
    seed.close()
    return OrderPilot(url, clock=clock, risk_check=approve_everything,
                      gateway=Unreachable(now=clock.now)), order.id


def refunds_of(shop: OrderPilot, order_id: str) -> list[tuple[str, str, int]]:
    with shop.context.tx(readonly=True) as tx:
        return [(op.key, op.status.value, op.amount)
                for op in MoneyStore(tx.store.sql).of_order(int(order_id[2:]))
                if op.kind.value == "refund"]


def swept(url: str, clock, order_id: str) -> int:
    """What the order counts as refunded once the money sweep ran with a provider that answers,
    past the retry delay."""
    clock.advance(minutes=10)
    paying = make_pilot(url, clock)
    try:
        paying.payments.sweep()
        return paying.orders.get(order_id).refunded
    finally:
        paying.close()


def test_a_goodwill_refund_that_times_out_is_answered_pending_and_paid_once(any_url, clock):
    shop, order_id = timing_out(any_url, clock)
    try:
        # When finance refunds ¥5.00 as goodwill (no key of its own) and the provider times out
        refund = refund_order(shop.context, int(order_id[2:]), 500, "物流延误补偿", "finance:li")
        # Then the answer is the recorded refund, pending, saying why, under the key it has
        assert (refund.status.value, refund.amount, refund.currency, refund.error) == (
            "pending", 500, "CNY", "gateway timeout")
        assert refunds_of(shop, order_id) == [(refund.key, "pending", 500)]
        assert shop.orders.get(order_id).refunded == 0
    finally:
        shop.close()
    # And the money sweep pays it once
    assert swept(any_url, clock, order_id) == 500


def test_a_goodwill_refund_retried_with_its_key_after_a_timeout_is_one_refund(any_url, clock):
    shop, order_id = timing_out(any_url, clock)
    try:
        # When finance's tool refunds ¥5.00 under its own key, and repeats the call after the
        # provider timed out
        answers = [refund_order(shop.context, int(order_id[2:]), 500, "物流延误补偿",
                                "finance:li", key="ticket-8812") for _ in range(2)]
        # Then both answers are the one refund, pending, and one refund is recorded
        assert {(a.key, a.status.value) for a in answers} == {
            (f"refund:{order_id}:ticket-8812", "pending")}
        assert refunds_of(shop, order_id) == [(answers[0].key, "pending", 500)]
    finally:
        shop.close()
    assert swept(any_url, clock, order_id) == 500
