"""Alipay's asynchronous notifications end to end: a real uvicorn server verifies each with
python-alipay-sdk's RSA2 check (keys generated for the test); the signed form is built as
Alipay documents it. Forged, stale, tampered and replayed notices change nothing. Both stores."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select

from integrations.db.money_store import MoneyStore
from integrations.db.records import payments_of
from integrations.db.repository import OUTBOX
from integrations.payments.settings import PaymentSettings
from integrations.service.checkout import open_checkout
from orderpilot import OrderPilot
from statemachine.risk_port import approve_everything
from tests.factories import stock
from tests.fakes.alipay_api import APP_ID, SELLER_ID, FakeAlipay
from tests.fakes.http import patient_client
from tests.integration.integ.server import row_counts, running_server
from tests.integration.payments.conftest import alipay_gateway_for

ADDRESS = {"street": "南京东路100号", "city": "上海市", "district": "黄浦区", "recipient": "王芳",
           "phone": "+8613900139000"}


class Shop:
    def __init__(self, pilot: OrderPilot, alipay: FakeAlipay, url: str):
        self.pilot, self.alipay, self.http = pilot, alipay, patient_client(url)

    def post(self, form: dict[str, str]) -> httpx.Response:
        return self.http.post("/hooks/alipay", content=urlencode(form), headers={
            "content-type": "application/x-www-form-urlencoded; charset=utf-8"})

    def order_paid_at_alipay(self) -> str:
        stock(self.pilot, quantity=5)
        order = self.pilot.orders.place(
            buyer_id="b-sh-1", lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": 8888}],
            shipping_address=ADDRESS, phone="+8613900139000", currency="CNY")
        open_checkout(self.pilot.context, int(order.id[2:]))
        self.alipay.pay(order.id)
        return order.id


@contextmanager
def alipay_shop(url: str, clock) -> Iterator[Shop]:
    """The shop on `url` behind a real server, paying through a fake Alipay of its own."""
    with FakeAlipay() as alipay:
        settings = PaymentSettings(
            provider="alipay", alipay_app_id=APP_ID, alipay_app_private_key=alipay.app_private,
            alipay_public_key=alipay.alipay_public, alipay_gateway_url=alipay.gateway,
            alipay_seller_id=SELLER_ID, webhook_tolerance_seconds=300)
        pilot = OrderPilot(url, clock=clock, risk_check=approve_everything,
                           gateway=alipay_gateway_for(alipay))
        with running_server(pilot, payments=settings) as served:
            shop = Shop(pilot, alipay, served)
            yield shop
            shop.http.close()
        pilot.close()


@pytest.fixture
def shop(any_url, clock) -> Iterator[Shop]:
    with alipay_shop(any_url, clock) as shop:
        yield shop


def test_a_signed_trade_success_pays_the_order_once_and_is_answered_success(shop, clock):
    # Given an order the buyer paid by scanning the QR code
    order_id = shop.order_paid_at_alipay()
    notice = shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now())
    # When Alipay posts the notice, then posts it again (it retries until it reads success)
    first, again = shop.post(notice), shop.post(notice)
    # Then both are answered with the plain `success`, and the order is paid once
    assert [(r.status_code, r.text) for r in (first, again)] == [(200, "success")] * 2
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.paid, order.payment_ref) == ("paid", 8888, order_id)
    assert [h.trigger for h in shop.pilot.orders.history(order_id)].count("pay") == 1


def test_a_notice_resent_after_an_outage_is_booked(shop, clock):
    # Given the buyer paid, and our server was down when Alipay first notified (2 and 10
    # minutes later Alipay resends the same notice: same notify_id, same notify_time)
    order_id = shop.order_paid_at_alipay()
    notice = shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now())
    clock.advance(minutes=12)
    # When the resend arrives, it is booked (before: refused as outside a 300 s window, at
    # every resend for 25 hours, and the payment was never recorded)
    assert (shop.post(notice).status_code, shop.post(notice).text) == (200, "success")
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.paid) == ("paid", 8888)


@pytest.mark.parametrize("breakage", ["forged", "stale", "tampered amount", "other seller"])
def test_a_notice_that_fails_its_checks_is_refused_and_changes_nothing(shop, clock, breakage):
    order_id = shop.order_paid_at_alipay()
    at = clock.now() - timedelta(hours=26) if breakage == "stale" else clock.now()
    notice = shop.alipay.notify(order_id, "TRADE_SUCCESS", at=at, forge=breakage == "forged")
    if breakage == "tampered amount":
        notice["total_amount"] = "0.01"
    if breakage == "other seller":  # signed by Alipay, but for another merchant
        notice = {k: v for k, v in notice.items() if k != "sign"} | {"seller_id": "2088999"}
        signed = "&".join(f"{k}={v}" for k, v in sorted(notice.items()) if k != "sign_type")
        from tests.fakes.alipay_api import sign
        notice["sign"] = sign(shop.alipay.alipay_private, signed)
    before = row_counts(shop.pilot)
    response = shop.post(notice)
    assert (response.status_code, response.text) == (401, "failure")
    assert row_counts(shop.pilot) == before
    assert shop.pilot.orders.get(order_id).state == "awaiting_payment"


def test_a_refund_made_in_the_merchant_portal_is_booked_once(shop, clock):
    # Given a paid order
    order_id = shop.order_paid_at_alipay()
    assert shop.post(shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now())).text == \
        "success"
    # When staff refund ¥20.00 in Alipay's merchant portal and Alipay notifies (twice)
    notice = shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now(),
                                refund=("portal-20261111-1", 2000))
    assert [shop.post(notice).text for _ in range(2)] == ["success", "success"]
    # Then the order books the refund once
    order = shop.pilot.orders.get(order_id)
    assert (order.refunded, order.payment_status) == (2000, "partially_refunded")


def test_money_paid_after_the_hold_expired_is_recorded_and_refunded_once(shop, clock):
    # Given an order whose hold expired while the buyer still had the QR code open
    stock(shop.pilot, quantity=5)
    order = shop.pilot.orders.place(
        buyer_id="b-sh-2", lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": 8888}],
        shipping_address=ADDRESS, phone="+8613900139000", currency="CNY")
    open_checkout(shop.pilot.context, int(order.id[2:]))
    clock.advance(minutes=21)
    shop.pilot.sweep()
    assert shop.pilot.orders.get(order.id).state == "expired"
    # When the buyer pays anyway and Alipay notifies (and retries)
    shop.alipay.pay(order.id)
    notice = shop.alipay.notify(order.id, "TRADE_SUCCESS", at=clock.now())
    assert [shop.post(notice).text for _ in range(2)] == ["success", "success"]
    # Then the money was refunded at Alipay once, under a request number of ours
    trade = shop.alipay.trades[order.id]
    assert trade["refunds"] == {f"late-refund:alipay:{order.id}": 8888}
    # And the order stays expired, its own money untouched; the ledger shows both movements
    after = shop.pilot.orders.get(order.id)
    assert (after.state, after.paid, after.refunded) == ("expired", 0, 0)
    with shop.pilot.context.engine.connect() as connection:
        booked = [(r.kind, r.amount) for r in payments_of(connection, int(order.id[2:]))]
    assert booked == [("late_capture", 8888), ("refund", 8888)]
    with shop.pilot.context.engine.connect() as connection:
        told = [r.event for r in connection.execute(select(OUTBOX.c.event).where(
            OUTBOX.c.event.like("orderpilot.order.late_payment%")))]
    assert told == ["orderpilot.order.late_payment", "orderpilot.order.late_payment_refunded"]


@pytest.mark.parametrize(("field", "amount"), [
    ("total_amount", "88.888"), ("total_amount", "八十八元"), ("total_amount", "-88.88"),
    ("total_amount", "NaN"), ("refund_fee", "20.005")])
def test_a_signed_notice_with_a_malformed_amount_is_refused_naming_the_field(
        shop, clock, caplog, field, amount):
    # Given a paid order (the refund case), and a notice Alipay signed whose amount is not
    # yuan with at most two decimals
    order_id = shop.order_paid_at_alipay()
    refund = None
    if field == "refund_fee":
        assert shop.post(shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now())).text \
            == "success"
        refund = ("portal-20261111-2", 2000)
    notice = shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now(), refund=refund)
    notice = resigned(shop, notice | {field: amount})
    before = row_counts(shop.pilot)
    # When Alipay posts it
    response = shop.post(notice)
    # Then it is refused (Alipay keeps the notice for a person to look at), nothing is
    # written, and the log names the field and what it held; nothing was rounded
    assert (response.status_code, response.text) == (401, "failure")
    assert row_counts(shop.pilot) == before
    assert f"alipay {field} {amount!r} is not an amount" in caplog.text
    order = shop.pilot.orders.get(order_id)
    assert (order.paid, order.refunded) == ((8888, 0) if refund else (0, 0))


def resigned(shop: Shop, form: dict[str, str]) -> dict[str, str]:
    """`form` signed again with Alipay's key (as Alipay would sign whatever it sends)."""
    from tests.fakes.alipay_api import sign

    fields = {k: v for k, v in form.items() if k != "sign"}
    signed = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "sign_type")
    return fields | {"sign": sign(shop.alipay.alipay_private, signed)}


def test_trade_finished_counts_as_paid_once_as_alipay_documents(shop, clock):
    # Given two orders the buyers paid: Alipay tells the first only TRADE_FINISHED (a product
    # sold without refunds, or its TRADE_SUCCESS lost), the second TRADE_SUCCESS then, when the
    # refund period ends, TRADE_FINISHED (after ¥20.00 refunded in the portal, which it repeats)
    first, second = shop.order_paid_at_alipay(), shop.order_paid_at_alipay()
    # When Alipay posts them
    answers = [shop.post(shop.alipay.notify(first, "TRADE_FINISHED", at=clock.now())).text]
    for status, refund in [("TRADE_SUCCESS", None), ("TRADE_SUCCESS", ("portal-1", 2000)),
                           ("TRADE_FINISHED", ("portal-1", 2000)), ("TRADE_FINISHED", None)]:
        notice = shop.alipay.notify(second, status, at=clock.now(), refund=refund)
        answers.append(shop.post(notice).text)
    # Then both orders are paid once ("only TRADE_SUCCESS or TRADE_FINISHED means the buyer
    # paid"), and the refund is booked once
    assert answers == ["success"] * 5
    paid = [shop.pilot.orders.get(order_id) for order_id in (first, second)]
    assert [(o.state, o.paid, o.refunded) for o in paid] == [("paid", 8888, 0),
                                                             ("paid", 8888, 2000)]
    assert [h.trigger for h in shop.pilot.orders.history(second)].count("pay") == 1


@pytest.mark.parametrize(("amount", "currency", "why"), [
    ("0.01", None, "paid 1, the order total is 8888"),
    ("129.00", None, "paid 12900, the order total is 8888"),
    ("88.88", "USD", "paid 8888 USD, the order is in CNY"),
    # yen have no decimals: Alipay writes ¥1000 as "1000" (read as 100,000 yen before, and
    # refunded as "10.00", which Alipay refuses for a yen trade)
    ("1000", "JPY", "paid 1000 JPY, the order is in CNY")])
def test_money_that_is_not_the_order_total_is_refunded_and_the_order_keeps_waiting(
        shop, clock, amount, currency, why):
    # Given an order of ¥88.88 waiting for its payment, and a trade Alipay says was paid for
    # another amount (or, cross-border, in dollars) under the order's number (a trade made
    # outside our checkout)
    stock(shop.pilot, quantity=5)
    order = shop.pilot.orders.place(
        buyer_id="b-sh-3", lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": 8888}],
        shipping_address=ADDRESS, phone="+8613900139000", currency="CNY")
    shop.alipay.pay(order.id, total=int(amount.replace(".", "")), currency=currency)
    notice = shop.alipay.notify(order.id, "TRADE_SUCCESS", at=clock.now())
    # When Alipay notifies (and retries)
    answers = [shop.post(notice) for _ in range(2)]
    # Then it is answered `success` (not refused forever while the money sits unrecorded):
    # the money is booked as late money and refunded once; the order is not paid
    assert [(r.status_code, r.text) for r in answers] == [(200, "success")] * 2
    fen, paid_in = int(amount.replace(".", "")), currency or "CNY"
    key = f"late-refund:alipay:{order.id}"
    assert shop.alipay.trades[order.id]["refunds"] == {key: fen}
    after = shop.pilot.orders.get(order.id)
    assert (after.state, after.paid, after.refunded) == ("awaiting_payment", 0, 0)
    told = late_money_told(shop)
    assert [t["why"] for t in told] == [why]
    # in the currency it came in (before: dollars booked and refunded as yuan: US$88.88 as
    # ¥88.88 in the ledger, and Alipay asked for "88.88" with no refund_currency)
    assert late_money_booked(shop, order.id) == [("late_capture", fen, paid_in),
                                                 ("refund", fen, paid_in)]
    assert shop.alipay.trades[order.id]["refund_currencies"] == {key: paid_in}
    assert [t["currency"] for t in told] == [paid_in]


def late_money_booked(shop: Shop, order_id: str) -> list[tuple[str, int, str]]:
    """The order's ledger rows: (kind, amount, currency)."""
    with shop.pilot.context.engine.connect() as connection:
        return [(r.kind, r.amount, r.currency)
                for r in payments_of(connection, int(order_id[2:]))]


def late_money_told(shop: Shop) -> list[dict]:
    with shop.pilot.context.engine.connect() as connection:
        return [r.payload for r in connection.execute(select(OUTBOX.c.payload).where(
            OUTBOX.c.event == "orderpilot.order.late_payment"))]


def test_dollars_paid_after_the_hold_expired_are_booked_and_refunded_in_dollars(shop, clock):
    # Given an order of ¥129.00 whose hold expired, then a cross-border trade of US$129.00
    # paid under its number
    stock(shop.pilot, quantity=5)
    order = shop.pilot.orders.place(
        buyer_id="b-sh-4", lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": 12_900}],
        shipping_address=ADDRESS, phone="+8613900139000", currency="CNY")
    clock.advance(minutes=21)
    shop.pilot.sweep()
    shop.alipay.pay(order.id, total=12_900, currency="USD")
    # When Alipay notifies
    answer = shop.post(shop.alipay.notify(order.id, "TRADE_SUCCESS", at=clock.now()))
    # Then the dollars are late money in dollars: the ledger, the refund we asked Alipay for
    # (refund_currency USD) and the operation all say USD (before: CNY, US$129 shown as ¥129)
    assert (answer.status_code, answer.text) == (200, "success")
    key = f"late-refund:alipay:{order.id}"
    assert late_money_booked(shop, order.id) == [("late_capture", 12_900, "USD"),
                                                 ("refund", 12_900, "USD")]
    assert shop.alipay.trades[order.id]["refund_currencies"] == {key: "USD"}
    with shop.pilot.context.tx(readonly=True) as tx:
        operation = MoneyStore(tx.store.sql).by_key(key)
    assert (operation.amount, operation.currency, operation.status.value) == (
        12_900, "USD", "succeeded")
    assert shop.pilot.orders.get(order.id).state == "expired"


@pytest.mark.parametrize("missing", ["notify_id", "out_trade_no", "total_amount"])
def test_a_signed_notice_missing_a_field_is_refused_naming_it(shop, clock, caplog, missing):
    # Given a notice signed by Alipay's key that lacks a field every trade notice has
    order_id = shop.order_paid_at_alipay()
    notice = shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now())
    notice = resigned(shop, {k: v for k, v in notice.items() if k != missing})
    before = row_counts(shop.pilot)
    # When it is posted, then it is refused with Alipay's `failure` (not a 500), naming the
    # field in the log, and nothing is written
    response = shop.post(notice)
    assert (response.status_code, response.text) == (401, "failure")
    assert f"alipay notification has no {missing}" in caplog.text
    assert row_counts(shop.pilot) == before


@pytest.mark.parametrize("code", ["jpy", "ABC", "XAU", "YEN1"])
def test_a_trans_currency_that_is_no_shop_currency_is_refused_naming_it(shop, clock, caplog,
                                                                         code):
    # Given a signed notice of a cross-border trade whose trans_currency is not a currency
    # code we can read amounts in (lower case, unknown, a metal): its decimals are unknown, so
    # its amount cannot be read (before: read with two decimals — "1000" yen as ¥100,000)
    stock(shop.pilot, quantity=5)
    order = shop.pilot.orders.place(
        buyer_id="b-sh-9", lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": 8888}],
        shipping_address=ADDRESS, phone="+8613900139000", currency="CNY")
    shop.alipay.pay(order.id, total=1000, currency=code)
    notice = shop.alipay.notify(order.id, "TRADE_SUCCESS", at=clock.now())
    assert notice["trans_currency"] == code
    before = row_counts(shop.pilot)
    # When it is posted, then it is refused with Alipay's `failure`, the field named in the
    # log, and nothing is written
    response = shop.post(notice)
    assert (response.status_code, response.text) == (401, "failure")
    assert f"alipay trans_currency {code!r}" in caplog.text
    assert row_counts(shop.pilot) == before
