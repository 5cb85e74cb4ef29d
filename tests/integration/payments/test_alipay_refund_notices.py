"""Alipay notices that come at awkward moments, end to end (a real uvicorn server, the notices
signed as Alipay signs them, python-alipay-sdk checking them): a refund staff made by hand in
the merchant portal for an order we cancelled, before our cancel-refund job ran; a notice the
store cannot apply now (answered Alipay's plain `failure`); a trade numbered `o-01`. Both
stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from integrations.carriers.simulated import AdoptingCarrier
from integrations.console.jobs import Ports, settle_cancel
from integrations.db.records import payments_of
from integrations.db.repository import OUTBOX
from integrations.http import providers
from statemachine.errors import Contention, GuardRejected, InvalidInput, StoreUnavailable
from statemachine.ports import CarrierProfile
from tests.factories import stock
from tests.integration.integ.server import row_counts
from tests.integration.payments.test_alipay_notify import ADDRESS, Shop, alipay_shop


@pytest.fixture
def shop(any_url, clock) -> Iterator[Shop]:
    with alipay_shop(any_url, clock) as shop:
        yield shop


def cancel_refund_job(shop: Shop, order_id: str) -> str:
    ports = Ports(gateway=shop.pilot.context.gateway, notify=lambda message: None,
                  carrier=lambda n, c: AdoptingCarrier(CarrierProfile(n), c),
                  retry_delays=(0.01,))
    return settle_cancel(shop.pilot.context, ports, order_id)


def paid_then_cancelled(shop: Shop, clock) -> str:
    order_id = shop.order_paid_at_alipay()
    assert shop.post(shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now())).text == \
        "success"
    shop.pilot.orders.fire(order_id, "cancel", actor="buyer", reason="不想要了")
    return order_id


def ledger(shop: Shop, order_id: str) -> list[tuple[str, int]]:
    with shop.pilot.context.engine.connect() as connection:
        return [(r.kind, r.amount) for r in payments_of(connection, int(order_id[2:]))]


def money_events(shop: Shop, order_id: str, since: str) -> list[tuple[str, dict]]:
    """The order's events after the first `since`, each with the payload fields a person
    reads (those present of amount, provider, toward, operation, superseded, rest)."""
    fields = ("amount", "provider", "toward", "operation", "superseded", "rest", "kind")
    with shop.pilot.context.engine.connect() as connection:
        rows = connection.execute(select(OUTBOX.c.event, OUTBOX.c.payload).where(
            OUTBOX.c.order_id == int(order_id[2:])).order_by(OUTBOX.c.id)).all()
    names = [r.event for r in rows]
    return [(r.event, {k: r.payload[k] for k in fields if k in r.payload})
            for r in rows[names.index(since) + 1:]]


def test_a_portal_refund_of_a_cancelled_order_is_booked_and_the_job_asks_alipay_nothing(
        shop, clock):
    # Given a paid order of ¥88.88 the buyer cancelled, and staff who refunded it in full by
    # hand in Alipay's merchant portal before our cancel-refund job ran
    order_id = paid_then_cancelled(shop, clock)
    shop.alipay.portal_refund(order_id, "portal-20261129-1", 8888)
    notice = shop.alipay.notify(order_id, "TRADE_CLOSED", at=clock.now(),
                                refund=("portal-20261129-1", 8888))
    # When Alipay notifies the refund (and retries it)
    answers = [shop.post(notice) for _ in range(2)]
    # Then both are answered `success` (before: 409 at every retry, the refund never booked)
    assert [(r.status_code, r.text) for r in answers] == [(200, "success")] * 2
    # And the ledger holds the refund once; the order's event stream says what happened: a
    # refund made at Alipay outside orderpilot, settling the cancellation's refund — not that
    # we asked for one (before: `money_requested` for a refund nobody here requested)
    assert ledger(shop, order_id) == [("capture", 8888), ("refund", 8888)]
    assert money_events(shop, order_id, since="orderpilot.order.cancelled") == [
        ("orderpilot.order.refund_settled", {"amount": 8888}),
        ("orderpilot.order.refund_made_outside", {
            "amount": 8888, "provider": "alipay", "toward": "cancel", "superseded": None,
            "rest": None,
            "operation": f"cancel-refund:{order_id}@alipay:{notice['notify_id']}"})]
    # When the cancel-refund job runs, then it sees the money back and asks Alipay nothing
    assert cancel_refund_job(shop, order_id) == "already settled"
    assert shop.alipay.trades[order_id]["refunds"] == {"portal-20261129-1": 8888}
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.paid, order.refunded) == ("cancelled", 8888, 8888)
    assert ledger(shop, order_id) == [("capture", 8888), ("refund", 8888)]


def test_after_a_partial_portal_refund_the_job_refunds_only_what_is_left(shop, clock):
    # Given a cancelled order of ¥88.88 of which staff refunded ¥20.00 in the portal, notified
    order_id = paid_then_cancelled(shop, clock)
    shop.alipay.portal_refund(order_id, "portal-20261129-2", 2000)
    notice = shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now(),
                                refund=("portal-20261129-2", 2000))
    assert shop.post(notice).text == "success"
    # When the cancel-refund job runs (twice)
    assert [cancel_refund_job(shop, order_id) for _ in range(2)] == ["refunded",
                                                                      "already settled"]
    # Then Alipay was asked for the ¥68.88 left, once; the ledger shows both refunds
    assert shop.alipay.trades[order_id]["refunds"] == {
        "portal-20261129-2": 2000, f"cancel-refund:{order_id}": 6888}
    assert ledger(shop, order_id) == [("capture", 8888), ("refund", 2000), ("refund", 6888)]
    # And Alipay's own notice of its refunded total (¥88.88) books nothing more
    total = shop.alipay.notify(order_id, "TRADE_CLOSED", at=clock.now(),
                               refund=(f"cancel-refund:{order_id}", 8888))
    assert shop.post(total).text == "success"
    assert ledger(shop, order_id) == [("capture", 8888), ("refund", 2000), ("refund", 6888)]
    assert shop.pilot.orders.get(order_id).refunded == 8888


@pytest.mark.parametrize(("trouble", "status"), [
    (Contention("applying event alipay:1", 6, "deadlock"), 503),
    (StoreUnavailable("the order store", "connection refused"), 503),
    (GuardRejected("order", "o-1", "cancelled", "refund", "would exceed what was paid"), 409),
    (RuntimeError("a bug"), 500)])
def test_a_notice_that_cannot_be_applied_now_is_answered_failure_as_plain_text(
        shop, clock, monkeypatch, trouble, status):
    # Given a paid order's notice that passes its checks, and a store that cannot apply it
    order_id = shop.order_paid_at_alipay()
    notice = shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now())

    def cannot(ctx, event):
        raise trouble

    monkeypatch.setattr(providers, "apply_money_event", cannot)
    # When Alipay posts it
    response = shop.post(notice)
    # Then the answer is Alipay's plain `failure` (before: a JSON error body), with a status
    # that says why; Alipay resends it later
    assert (response.status_code, response.text) == (status, "failure")
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers.get("retry-after") == ("1" if status == 503 else None)
    # And once the store can apply it, the resend is booked
    monkeypatch.undo()
    assert (shop.post(notice).status_code, shop.post(notice).text) == (200, "success")
    assert shop.pilot.orders.get(order_id).state == "paid"


def test_a_trade_numbered_with_a_leading_zero_is_refused_not_matched_to_an_order(
        shop, clock, caplog):
    # Given order o-1 of ¥88.88 waiting for its payment, and a trade Alipay signed, paid for
    # ¥88.88, numbered `o-01` — not a number our checkout writes
    stock(shop.pilot, quantity=5)
    order = shop.pilot.orders.place(
        buyer_id="b-zero", lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": 8888}],
        shipping_address=ADDRESS, phone="+8613900139000", currency="CNY")
    assert order.id == "o-1"
    shop.alipay.pay("o-01", total=8888)
    notice = shop.alipay.notify("o-01", "TRADE_SUCCESS", at=clock.now())
    before = row_counts(shop.pilot)
    # When Alipay posts its notice
    response = shop.post(notice)
    # Then it is refused (before: o-01 was read as o-1 and paid it), naming the field in the
    # log; nothing is written and the order keeps waiting
    assert (response.status_code, response.text) == (401, "failure")
    assert "alipay out_trade_no 'o-01' is not an order id of ours" in caplog.text
    assert row_counts(shop.pilot) == before
    assert shop.pilot.orders.get("o-1").state == "awaiting_payment"
    with pytest.raises(InvalidInput, match="no leading zero"):
        shop.pilot.orders.get("o-01")


def test_a_refund_notice_before_the_payment_notice_books_the_payment_and_the_refund(
        shop, clock):
    # Given an order the buyer paid at Alipay, ¥20.00 of it refunded by staff in the portal,
    # and Alipay's refund notice arriving before its payment notice (that one was lost in an
    # outage, or is still being resent)
    order_id = shop.order_paid_at_alipay()
    shop.alipay.portal_refund(order_id, "portal-20261129-3", 2000)
    refund = shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now(),
                                refund=("portal-20261129-3", 2000))
    # When the refund notice is posted (twice)
    answers = [shop.post(refund) for _ in range(2)]
    # Then it is answered `success` (before: 409 at every resend until the payment notice
    # came): the notice says the buyer paid ¥88.88, so the payment is booked, then the refund
    assert [(r.status_code, r.text) for r in answers] == [(200, "success")] * 2
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.paid, order.refunded, order.payment_status) == (
        "paid", 8888, 2000, "partially_refunded")
    assert ledger(shop, order_id) == [("capture", 8888), ("refund", 2000)]
    # And the payment notice, when it comes, books nothing more
    paid = shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now())
    assert shop.post(paid).text == "success"
    assert ledger(shop, order_id) == [("capture", 8888), ("refund", 2000)]
    assert [h.trigger for h in shop.pilot.orders.history(order_id)].count("pay") == 1
