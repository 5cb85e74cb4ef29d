"""The money sweep: a provider call left pending by a timeout or a 5xx is made again with its
own key (the money moves once), and a payment opened for an order that can no longer be paid
is released at the provider (Stripe cancels the intent, Alipay closes the trade). Both stores,
the official SDKs against the local stand-ins."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.db.money_store import MoneyStore
from integrations.payments.stripe_gateway import StripeGateway
from integrations.service import money_refunds
from integrations.service.checkout import capture_order, open_checkout
from integrations.service.money_sweep import sweep_money
from orderpilot import OrderPilot
from statemachine.risk_port import approve_everything
from tests.factories import stock
from tests.fakes.alipay_api import FakeAlipay
from tests.fakes.stripe_api import FakeStripe
from tests.integration.payments.conftest import STRIPE_KEY, alipay_gateway_for

LINE = {"sku": "SKU-1", "quantity": 1, "unit_price": 29900}


def place(pilot: OrderPilot) -> str:
    stock(pilot, quantity=5)
    return pilot.orders.place(buyer_id="b-1", lines=[LINE], currency="CNY", shipping_address={
        "province": "浙江省", "city": "杭州市", "street": "文三路 18 号"}).id


def operations(pilot: OrderPilot, order_id: str) -> list[tuple[str, str]]:
    with pilot.context.tx(readonly=True) as tx:
        return [(op.kind.value, op.status.value)
                for op in MoneyStore(tx.store.sql).of_order(int(order_id[2:]))]


@pytest.fixture
def stripe_shop(any_url, clock) -> Iterator[tuple[OrderPilot, FakeStripe]]:
    with FakeStripe() as fake:
        # the 2 s timeout the other Stripe tests use: every call here gets it (the intent, the
        # capture), and a shorter one timed those out too on a loaded machine
        gateway = StripeGateway(STRIPE_KEY, api_base=fake.url, max_retries=0,
                                timeout_seconds=2)
        pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                           gateway=gateway)
        yield pilot, fake
        gateway.close()
        pilot.close()


@pytest.mark.parametrize("trouble", ["503", "timeout after Stripe refunded"])
def test_a_refund_left_pending_is_made_again_with_its_key_and_moves_money_once(
        stripe_shop, clock, trouble):
    pilot, fake = stripe_shop
    # Given a paid order, and a refund of ¥50.00 whose call to Stripe failed
    order_id = place(pilot)
    checkout = open_checkout(pilot.context, int(order_id[2:]))
    fake.authorise(checkout.payment_ref)
    capture_order(pilot.context, int(order_id[2:]))
    hung = None
    if trouble == "503":
        fake.fail_next(status=503, when=lambda method, path: path == "/v1/refunds")
    else:  # Stripe made the refund and its answer never came (held until released, not
        # delayed for a while: a delay beats the client's timeout only while the machine keeps up)
        hung = fake.hold_next(when=lambda method, path: path == "/v1/refunds")
    try:
        # answered pending, not raised: the refund is recorded under a key the caller needs
        # to see (raised, a retry without a key recorded a second refund the sweep paid too)
        refund = money_refunds.refund_order(pilot.context, int(order_id[2:]), 5000, "价保",
                                            "客服")
    finally:
        if hung is not None:
            hung.set()
    assert (refund.status.value, refund.amount) == ("pending", 5000)
    assert refund.error  # the transient failure, whichever way Stripe failed
    if hung is not None:  # the refund was made at Stripe although our call timed out
        assert [r["amount"] for r in fake.refunds.values()] == [5000]
    assert operations(pilot, order_id)[-1] == ("refund", "pending")
    assert pilot.orders.get(order_id).refunded == 0
    # When the money sweep runs (too early, then after the retry delay)
    assert sweep_money(pilot.context, clock.now()) == {"retried": 0, "released": 0,
                                                       "refunds_owed_alerted": 0}
    clock.advance(minutes=3)
    assert sweep_money(pilot.context, clock.now()) == {"retried": 1, "released": 0,
                                                       "refunds_owed_alerted": 0}
    # Then the refund settled once: one refund at Stripe, every attempt under one key
    attempts = fake.calls("POST", "/v1/refunds")
    assert len({a.headers["idempotency-key"] for a in attempts}) == 1 and len(attempts) == 2
    assert [r["amount"] for r in fake.refunds.values()] == [5000]
    assert pilot.orders.get(order_id).refunded == 5000
    assert sweep_money(pilot.context, clock.now()) == {"retried": 0, "released": 0,
                                                       "refunds_owed_alerted": 0}


def test_an_intent_opened_for_an_order_that_expired_is_cancelled_at_stripe(stripe_shop, clock):
    pilot, fake = stripe_shop
    # Given a checkout opened, never paid, and the hold expired
    order_id = place(pilot)
    checkout = open_checkout(pilot.context, int(order_id[2:]))
    clock.advance(minutes=21)
    pilot.sweep()
    assert pilot.orders.get(order_id).state == "expired"
    # When the money sweep runs (twice)
    assert [sweep_money(pilot.context, clock.now())["released"] for _ in range(2)] == [1, 0]
    # Then the intent is cancelled at Stripe, once, under a key of ours
    assert fake.intents[checkout.payment_ref]["status"] == "canceled"
    [cancel] = fake.calls("POST", f"/v1/payment_intents/{checkout.payment_ref}/cancel")
    assert cancel.headers["idempotency-key"] == f"void:{order_id}:{checkout.payment_ref}"
    assert operations(pilot, order_id) == [("checkout", "succeeded"), ("void", "succeeded")]


@pytest.mark.parametrize("buyer_scanned", [True, False])
def test_an_alipay_trade_of_a_cancelled_order_is_closed(any_url, clock, buyer_scanned):
    with FakeAlipay() as fake:
        pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                           gateway=alipay_gateway_for(fake))
        # Given a QR code shown for an order the buyer then cancelled
        order_id = place(pilot)
        open_checkout(pilot.context, int(order_id[2:]))
        if buyer_scanned:
            fake.scan(order_id)  # the trade exists at Alipay, waiting for payment
        pilot.orders.fire(order_id, "cancel", actor="buyer", reason="不想要了")
        # When the money sweep runs
        assert sweep_money(pilot.context, clock.now())["released"] == 1
        # Then the trade is closed (one never scanned does not exist: nothing to close)
        methods = [r.fields.get("method") for r in fake.requests]
        assert fake.trades[order_id]["status"] == ("TRADE_CLOSED" if buyer_scanned
                                                   else "CREATED")
        assert methods[-1] == "alipay.trade.close", methods
        assert operations(pilot, order_id)[-1] == ("void", "succeeded")
        pilot.close()
