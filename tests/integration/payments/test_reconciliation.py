"""Settlement reconciliation on a real store (SQLite and PostgreSQL): a shop selling in CNY
through Alipay (the python-alipay-sdk against the local stand-in, which also hands out the day's
trade bill) and Stripe (the stripe SDK against its stand-in), compared with the providers' own
books. Nothing is changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from integrations.ingest.money_events import apply_money_event
from integrations.payments.alipay_bill import BillNotReady
from integrations.payments.statements import read_statement
from integrations.service import money, money_refunds, reconciliation
from integrations.service.checkout import capture_order
from orderpilot import OrderPilot
from statemachine.ports import MoneyEvent
from statemachine.risk_port import approve_everything
from tests.factories import stock
from tests.fakes.alipay_api import FakeAlipay
from tests.fakes.alipay_bill import BEIJING, BillRow, bill_zip, trade_bill
from tests.fakes.stripe_api import FakeStripe
from tests.integration.integ.server import row_counts
from tests.integration.payments.conftest import alipay_gateway_for, stripe_gateway_for

ADDRESS = {"street": "文三路18号", "city": "杭州市", "district": "西湖区", "recipient": "韩梅梅",
           "phone": "+8613800138000"}
GOODS = {"TEA-LJ": ("西湖龙井 250克", 29900), "BAND-8": ("小米手环8 NFC版", 23900),
         "BUDS-3": ("华为FreeBuds Pro 3", 139900)}


def sell(pilot: OrderPilot, sku: str, buyer: str) -> str:
    """A CNY order placed and paid through the configured provider; its public id."""
    stock(pilot, sku=sku, quantity=5)
    order = pilot.orders.place(buyer_id=buyer, lines=[{
        "sku": sku, "quantity": 1, "unit_price": GOODS[sku][1]}], shipping_address=ADDRESS,
        phone="+8613800138000", currency="CNY")
    return order.id


@pytest.fixture
def alipay_shop(any_url, clock) -> Iterator[tuple[OrderPilot, FakeAlipay]]:
    with FakeAlipay() as fake:
        pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                           gateway=alipay_gateway_for(fake))
        yield pilot, fake
        pilot.close()


def paid_by_alipay(pilot: OrderPilot, fake: FakeAlipay, sku: str, buyer: str) -> str:
    order_id = sell(pilot, sku, buyer)
    number = int(order_id[2:])
    from integrations.service.checkout import open_checkout
    open_checkout(pilot.context, number)
    fake.pay(order_id)  # the buyer scans the QR code and pays
    capture_order(pilot.context, number)  # trade.query confirms it: the order is paid
    return order_id


def bill_of(pilot: OrderPilot, fake: FakeAlipay, day: date, *, refunds: dict[str, int]
            ) -> list[BillRow]:
    """Alipay's books as its bill shows them: every paid trade, every refund request."""
    at = pilot.clock.now()
    rows = [BillRow(t["trade_no"], out, "交易", t["total"], at) for out, t in fake.trades.items()
            if t["status"] in ("TRADE_SUCCESS", "TRADE_CLOSED")]
    rows += [BillRow(fake.trades[out]["trade_no"], out, "退款", fen, at, request_no=request)
             for out, t in fake.trades.items() for request, fen in t["refunds"].items()
             if request in refunds]
    return rows


def test_an_alipay_day_that_agrees_is_clean_and_the_fees_are_reported(alipay_shop):
    pilot, fake = alipay_shop
    # Given three orders paid by Alipay and one partly refunded (a goodwill 50 元)
    orders = [paid_by_alipay(pilot, fake, sku, f"b-{i}") for i, sku in enumerate(GOODS)]
    refund = money_refunds.refund_order(pilot.context, int(orders[0][2:]), 5000,
                                        "茶叶受潮，补偿50元", "客服:李娜")
    day = pilot.clock.now().astimezone(BEIJING).date()
    rows = bill_of(pilot, fake, day, refunds={refund.key: 5000})
    records = read_statement("alipay", trade_bill(rows, day))
    before = row_counts(pilot)
    # When finance reconciles the Beijing day against Alipay's bill
    start, end = reconciliation.day_window(day, BEIJING)
    result = reconciliation.against_records(pilot.context, "alipay", start, end, records)
    # Then every movement pairs up, and the totals show Alipay's 0.6 % fee
    assert (result.matched, result.differences) == (4, ())
    [cny] = result.totals
    gross = 29900 + 23900 + 139900 - 5000
    assert (cny.currency, cny.gross, cny.ours) == ("CNY", gross, gross)
    assert cny.fees == 179 + 143 + 839 - 30
    assert row_counts(pilot) == before  # nothing written


def test_every_alipay_difference_is_reported_and_nothing_is_changed(alipay_shop):
    pilot, fake = alipay_shop
    # Given two orders paid and one refund recorded by us …
    tea = paid_by_alipay(pilot, fake, "TEA-LJ", "b-1")
    buds = paid_by_alipay(pilot, fake, "BUDS-3", "b-2")
    refund = money_refunds.refund_order(pilot.context, int(tea[2:]), 5000, "补偿", "客服")
    day = pilot.clock.now().astimezone(BEIJING).date()
    rows = bill_of(pilot, fake, day, refunds={})  # … but the bill lacks the refund,
    rows = [r if r.out_trade_no != buds else BillRow(r.trade_no, r.out_trade_no, r.kind,
                                                     r.fen - 10000, r.at) for r in rows]
    rows.append(BillRow("2026111122001999", "线下-0093", "交易", 6800, pilot.clock.now()))
    records = read_statement("alipay", trade_bill(rows, day))  # shows 100 元 less for the
    before = row_counts(pilot)  # earbuds, and a sale made at the shop's counter
    # When reconciled
    start, end = reconciliation.day_window(day, BEIJING)
    result = reconciliation.against_records(pilot.context, "alipay", start, end, records)
    # Then each difference is named with the order, both amounts and where we booked it
    got = sorted((r["difference"], r["movement"], r["order"], r["payment"], r["ours"],
                  r["theirs"]) for r in reconciliation.rows(result))
    assert got == [("amount_mismatch", "charge", buds, buds, 139900, 129900),
                   ("missing_at_provider", "refund", tea, tea, -5000, None),
                   ("missing_here", "charge", "", "线下-0093", None, 6800)]
    mine = next(d for d in result.differences if d.kind == "missing_at_provider")
    assert mine.ref == refund.key and f"op:{refund.key}" in mine.note
    assert reconciliation.summary(result)["by_kind"] == {
        "amount_mismatch": 1, "missing_at_provider": 1, "missing_here": 1}
    assert row_counts(pilot) == before


def test_stripe_books_read_through_the_sdk_agree_with_ours(any_url, clock):
    # Given a shop on Stripe (the SDK against the local stand-in): an order captured, then
    # refunded in part
    with FakeStripe() as fake:
        fake.now = lambda: int(clock.now().timestamp())  # Stripe books on the shop's clock
        gateway = stripe_gateway_for(fake)
        pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                           gateway=gateway)
        try:
            order = sell(pilot, "BUDS-3", "b-9")
            from integrations.service.checkout import open_checkout
            checkout = open_checkout(pilot.context, int(order[2:]))
            fake.authorise(checkout.payment_ref)
            capture_order(pilot.context, int(order[2:]))
            money_refunds.refund_order(pilot.context, int(order[2:]), 20000, "价保", "客服")
            # When the day is reconciled against Stripe's balance transactions (its API)
            start = clock.now().replace(hour=0, minute=0, second=0)
            result = reconciliation.against_provider(
                pilot.context, start, start + timedelta(days=1))
        finally:
            gateway.close()
            pilot.close()
    # Then the charge and the refund pair with ours, and Stripe's fee is reported
    assert (result.provider, result.matched, result.differences) == ("stripe", 2, ())
    assert (result.totals[0].gross, result.totals[0].fees) == (119900, round(139900 * 0.034))


def test_a_downloaded_alipay_bill_reconciles_as_the_same_file_given_directly(alipay_shop):
    pilot, fake = alipay_shop
    # Given two orders paid by Alipay, one partly refunded, and a counter sale only Alipay saw
    tea = paid_by_alipay(pilot, fake, "TEA-LJ", "b-1")
    paid_by_alipay(pilot, fake, "BAND-8", "b-2")
    refund = money_refunds.refund_order(pilot.context, int(tea[2:]), 5000, "补偿", "客服")
    day = pilot.clock.now().astimezone(BEIJING).date()
    rows = bill_of(pilot, fake, day, refunds={refund.key: 5000})
    rows.append(BillRow("2026111122001999", "门店-17", "交易", 6800, pilot.clock.now()))
    bill = trade_bill(rows, day)
    # … and Alipay hands out that bill through its API, zipped with its summary
    fake.bills[day.isoformat()] = bill_zip(bill, day)
    before = row_counts(pilot)
    # When the day is reconciled without a file (downloaded), and with the file given directly
    downloaded = pilot.payments.reconcile(day, provider="alipay")
    given = pilot.payments.reconcile(day, provider="alipay", statement=bill,
                                     name="20880000000000010156_业务明细.csv")
    # Then both reports are the same, and neither is trivial
    assert downloaded == given
    assert (downloaded["summary"]["matched"], downloaded["summary"]["by_kind"]) == (
        3, {"missing_here": 1})
    assert len(fake.calls("GET", "/downloadBillFile.resource")) == 1
    assert row_counts(pilot) == before


def test_reconciling_alipay_before_its_bill_is_written_says_retry_later(alipay_shop):
    pilot, fake = alipay_shop
    day = pilot.clock.now().astimezone(BEIJING).date()
    with pytest.raises(BillNotReady, match="retry later"):
        pilot.payments.reconcile(day, provider="alipay")


def test_late_dollars_for_a_yuan_order_reconcile_in_dollars(any_url, clock):
    # Given a shop on Stripe: an order of ¥1,399.00 whose hold lapsed while the buyer paid its
    # intent in dollars (US$1,399.00), which Stripe reported and orderpilot refunded as late
    # money (the webhook's translated event, applied as /hooks/stripe applies it)
    with FakeStripe() as fake:
        fake.now = lambda: int(clock.now().timestamp())  # Stripe books on the shop's clock
        gateway = stripe_gateway_for(fake)
        pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                           gateway=gateway)
        try:
            order = sell(pilot, "BUDS-3", "b-10")
            from integrations.service.checkout import open_checkout
            pi = open_checkout(pilot.context, int(order[2:])).payment_ref
            fake.intents[pi]["currency"] = "usd"
            pilot.sweep(clock.now() + timedelta(minutes=21))
            fake.authorise(pi)
            fake._capture(pi, {})
            _, follow = apply_money_event(pilot.context, MoneyEvent(
                "stripe", "evt_late_usd", "captured", pi, 139900, "USD", clock.now(),
                order_id=order))
            money.execute_quietly(pilot.context, follow, clock.now())
            assert pilot.orders.get(order).state == "expired"
            # When the day is reconciled against Stripe's balance transactions
            start = clock.now().replace(hour=0, minute=0, second=0)
            result = reconciliation.against_provider(
                pilot.context, start, start + timedelta(days=1))
        finally:
            gateway.close()
            pilot.close()
    # Then our late charge and its refund pair with Stripe's, in dollars: no difference, and
    # the day's totals are in USD alone (before: both booked in CNY — two currency
    # differences, and a CNY line of ours beside Stripe's USD one)
    assert (result.matched, result.differences) == (2, ())
    assert [(t.currency, t.gross, t.ours) for t in result.totals] == [("USD", 0, 0)]
