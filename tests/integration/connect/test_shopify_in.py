"""Shopify order webhooks over a real HTTP server: verified by HMAC, de-duplicated by webhook
id, mapped onto placement, payment, cancellation and refunds; bad data refused whole."""

from __future__ import annotations

import pytest

from flows.wiring import ports
from integrations.config import Settings
from integrations.connect_config import ShopifyPolicy
from integrations.console.jobs import settle_cancel
from integrations.service import settlement
from orderpilot import OrderPilot
from statemachine.errors import InvalidInput
from tests.factories import stock
from tests.fakes.http import patient_client
from tests.integration.connect.providers import (
    SHOP,
    SHOPIFY_SECRET,
    shopify_order,
    shopify_refund,
)
from tests.integration.connect.shopify_http import CANCELLED_AT, ledger, refund_owed_alerts, send
from tests.integration.integ.server import review_big_orders, row_counts, running_server


def test_an_order_is_placed_paid_and_refunded_from_its_webhooks(storefront):
    # Given a Shopify order created unpaid
    pilot, http = storefront
    created = send(http, "orders/create", shopify_order(), "wh-1")
    # Then it is placed for the Shopify customer, holding stock, with the address mapped
    assert created.status_code == 200, created.text
    order = pilot.orders.get(created.json()["order"]["id"])
    assert (order.state, order.buyer_id, order.total) == ("awaiting_payment",
                                                          "shopify-207119551", 7980)
    assert order.shipping_address == {
        "street": "文三路 18 号 3 单元 501", "city": "杭州市", "province": "浙江省",
        "postal_code": "310012", "country": "CN", "phone": "+86 139 1234 5678",
        "recipient": "王芳"}
    # When it is paid, then partly refunded (one unit of goods and the shipping)
    paid = send(http, "orders/paid", shopify_order(financial_status="paid"), "wh-2")
    refund = send(http, "refunds/create", shopify_refund(5_890_123_456, shipping="10.00"), "wh-3")
    # Then the order is paid for its goods and refunded for the goods part; the ledger shows
    # the money that went back, shipping included (it showed the goods only before)
    assert paid.json()["applied"] is True and refund.json()["applied"] is True
    order = pilot.orders.get(order.id)
    assert (order.state, order.paid, order.refunded) == ("paid", 7980, 3990)
    assert ledger(pilot) == [("capture", 8980, "shopify:5890123456"),
                             ("refund", 4990, "shopify:509562969")]


def test_repeats_replay_and_a_second_webhook_for_the_same_order_places_nothing(storefront):
    pilot, http = storefront
    first = send(http, "orders/create", shopify_order(financial_status="paid"), "wh-1")
    again = send(http, "orders/create", shopify_order(financial_status="paid"), "wh-1")
    other_id = send(http, "orders/create", shopify_order(financial_status="paid"), "wh-9")
    late_paid = send(http, "orders/paid", shopify_order(financial_status="paid"), "wh-10")
    assert first.json()["order"]["state"] == "paid"  # paid at checkout
    assert again.headers["Idempotent-Replay"] == "true" and again.json()["duplicate"] is True
    assert other_id.json()["applied"] is False and "already placed" in other_id.json()["note"]
    assert late_paid.json()["note"] == "already paid"
    assert row_counts(pilot)["orders"] == 1


def test_forged_or_foreign_webhooks_are_refused_and_change_nothing(storefront):
    pilot, http = storefront
    before = row_counts(pilot)
    forged = send(http, "orders/create", shopify_order(), "wh-1", secret="guess")
    foreign = send(http, "orders/create", shopify_order(), "wh-2", shop="other.myshopify.com")
    assert forged.status_code == foreign.status_code == 401
    assert row_counts(pilot) == before


@pytest.mark.parametrize(("change", "field"), [
    ({"skus": ("SKU-1", "NOT-STOCKED")}, "line_items[1].sku"),
    ({"currency": "USD"}, "currency"),
    ({"shipping_address": None}, "shipping_address"),
    ({"customer": None, "email": None}, "customer"),
    ({"skus": ("",)}, "line_items[0].sku"),
    # amounts too large to scale to fen: a 500 with a traceback before (decimal.Overflow, and
    # ValueError from int() past 4,300 digits)
    ({"price": "1e999999"}, "line_items[0].price"),
    ({"price": "9" * 5000}, "line_items[0].price"),
])
def test_bad_orders_get_a_clear_answer_naming_the_shopify_field_and_nothing_is_written(
        storefront, change, field):
    pilot, http = storefront
    before = row_counts(pilot)
    answer = send(http, "orders/create", shopify_order(**change), "wh-bad")
    assert answer.status_code == 422
    assert field in answer.json()["problems"], answer.json()
    assert row_counts(pilot) == before


def test_a_refund_in_another_currency_is_refused(storefront):
    pilot, http = storefront
    send(http, "orders/create", shopify_order(financial_status="paid"), "wh-1")
    before = row_counts(pilot)
    answer = send(http, "refunds/create", shopify_refund(5_890_123_456, currency="USD"), "wh-2")
    assert answer.status_code == 422 and "transactions[0].currency" in answer.json()["problems"]
    assert row_counts(pilot) == before


def test_out_of_order_paid_before_created_and_cancelled_before_created(storefront):
    pilot, http = storefront
    # orders/paid arrives first: the order is placed from it and paid
    paid = send(http, "orders/paid", shopify_order(1, financial_status="paid"), "wh-1")
    created = send(http, "orders/create", shopify_order(1), "wh-2")
    assert paid.json()["order"]["state"] == "paid"
    assert "already placed" in created.json()["note"]
    # orders/cancelled arrives before orders/create: nothing is ever placed
    cancelled = send(http, "orders/cancelled", shopify_order(2, cancelled_at="2026-11-11T10:00:00"
                                                                 "+08:00"), "wh-3")
    late = send(http, "orders/create", shopify_order(2), "wh-4")
    assert cancelled.json()["applied"] is False and late.json()["applied"] is False
    assert row_counts(pilot)["orders"] == 1


def test_an_order_cancelled_twice_before_it_was_created_is_answered_twice(storefront):
    # Given an orders/cancelled for an order never placed here, then another delivery of the
    # cancellation under a new webhook id (a second subscription, a resend)
    pilot, http = storefront
    gone = shopify_order(3, cancelled_at="2026-11-11T10:00:00+08:00")
    first, second = (send(http, "orders/cancelled", gone, wh) for wh in ("wh-5", "wh-6"))
    # Then both are answered 200, nothing applied; and a late orders/create places nothing
    assert [r.status_code for r in (first, second)] == [200, 200], second.text
    assert second.json()["applied"] is False
    assert send(http, "orders/create", shopify_order(3), "wh-7").json()["applied"] is False
    assert row_counts(pilot)["orders"] == 0


def test_cancellation_releases_stock_and_a_shipped_order_is_not_cancelled(storefront):
    pilot, http = storefront
    send(http, "orders/create", shopify_order(1), "wh-1")
    cancelled = send(http, "orders/cancelled", shopify_order(1, cancel_reason="customer"), "wh-2")
    assert cancelled.json()["order"]["state"] == "cancelled"
    assert pilot.inventory.level(sku="SKU-1", warehouse="WH-1").reserved == 0
    send(http, "orders/create", shopify_order(2, financial_status="paid"), "wh-3")
    number = pilot.orders.get("o-2")
    for trigger in ("start_picking", "pack", "ship"):
        pilot.orders.fire(number.id, trigger)
    late = send(http, "orders/cancelled", shopify_order(2), "wh-4")
    assert late.json()["applied"] is False and "after-sales" in late.json()["note"]
    assert pilot.orders.get("o-2").state == "shipped"


def test_a_discount_that_does_not_divide_evenly_keeps_the_total_exact(storefront):
    pilot, http = storefront
    answer = send(http, "orders/create", shopify_order(price="10.00", quantity=3,
                                                       discount="0.01"), "wh-1")
    order = pilot.orders.get(answer.json()["order"]["id"])
    assert order.total == 2999
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in order.lines] == [
        ("SKU-1", 1, 999), ("SKU-1", 2, 1000)]


def test_an_order_paid_at_checkout_and_held_for_review_keeps_its_payment(any_url, clock):
    # Given a shop whose risk check sends orders over ¥50 to a person
    pilot = OrderPilot(any_url, clock=clock, risk_check=review_big_orders, settings=Settings(
        shopify=ShopifyPolicy(webhook_secret=SHOPIFY_SECRET, shop_domain=SHOP)))
    stock(pilot, sku="SKU-1", quantity=20)
    stock(pilot, sku="SKU-2", warehouse="WH-2", quantity=20)
    with running_server(pilot) as base_url, patient_client(base_url) as http:
        # When Shopify sends an order paid at checkout (¥79.80), then its orders/paid
        created = send(http, "orders/create", shopify_order(financial_status="paid"), "wh-1")
        paid = send(http, "orders/paid", shopify_order(financial_status="paid"), "wh-2")
    # Then the order waits for the person with its payment kept (it was dropped before)
    assert created.json()["order"]["state"] == "under_review", created.text
    assert paid.json()["note"] == "already paid"
    order_id = created.json()["order"]["id"]
    assert pilot.orders.get(order_id).paid == 7980
    # And approving it makes it paid: no hold to lapse, no second payment asked of the buyer
    assert pilot.reviews.approve(order_id, by="mei").state == "paid"
    pilot.close()


def test_an_update_carrying_a_cancellation_before_the_order_arrived_places_nothing(storefront):
    # Given an orders/updated saying the order was cancelled, for an order not placed here yet
    pilot, http = storefront
    update = shopify_order(4, financial_status="refunded", cancelled_at=CANCELLED_AT)
    answer = send(http, "orders/updated", update, "wh-8")
    assert answer.status_code == 200 and answer.json()["applied"] is False, answer.text
    # When its orders/create (paid at checkout) and orders/paid arrive late
    late = [send(http, topic, shopify_order(4, financial_status="paid"), wh)
            for topic, wh in (("orders/create", "wh-9"), ("orders/paid", "wh-10"))]
    # Then nothing is placed: no goods are held, picked or shipped for a cancelled order
    assert [r.json()["applied"] for r in late] == [False, False], [r.text for r in late]
    assert row_counts(pilot)["orders"] == 0
    assert pilot.inventory.level(sku="SKU-1", warehouse="WH-1").reserved == 0


def test_a_create_already_cancelled_is_remembered_for_a_late_payment(storefront):
    # Given an orders/create whose body says the order is cancelled (a resend of it)
    pilot, http = storefront
    create = shopify_order(5, cancelled_at=CANCELLED_AT)
    assert send(http, "orders/create", create, "wh-11").json()["applied"] is False
    # When its orders/paid arrives, taken before the cancellation
    paid = send(http, "orders/paid", shopify_order(5, financial_status="paid"), "wh-12")
    # Then it places nothing either
    assert paid.json()["applied"] is False, paid.text
    assert row_counts(pilot)["orders"] == 0


def test_an_update_carrying_a_cancellation_cancels_a_placed_order_once(storefront):
    # Given a placed, unshipped order and a shipped one
    pilot, http = storefront
    send(http, "orders/create", shopify_order(6), "wh-13")
    send(http, "orders/create", shopify_order(7, financial_status="paid"), "wh-14")
    shipped = pilot.orders.get("o-2")
    for trigger in ("start_picking", "pack", "ship"):
        pilot.orders.fire(shipped.id, trigger)
    # When orders/updated says each was cancelled, and then another update of the first comes
    first = send(http, "orders/updated", shopify_order(6, cancelled_at=CANCELLED_AT), "wh-15")
    again = send(http, "orders/updated", shopify_order(6, cancelled_at=CANCELLED_AT,
                                                       note="tagged"), "wh-16")
    late = send(http, "orders/updated", shopify_order(7, cancelled_at=CANCELLED_AT), "wh-17")
    # Then the unshipped one is cancelled, once; the shipped one is not, and the answer says
    # to open an after-sales case (it said nothing had changed)
    assert first.json()["order"]["state"] == "cancelled" and first.json()["applied"] is True
    assert again.json()["applied"] is False and "already cancelled" in again.json()["note"]
    assert late.json()["applied"] is False and "after-sales" in late.json()["note"], late.text
    assert pilot.orders.get("o-2").state == "shipped"


@pytest.mark.parametrize("topics", [("orders/paid",), ("orders/paid", "orders/cancelled")])
def test_a_payment_shopify_refunded_when_it_cancelled_is_in_the_ledger_both_ways(
        storefront, topics):
    # Given a placed order (¥79.80 of goods, ¥89.80 with shipping) still awaiting payment here
    pilot, http = storefront
    send(http, "orders/create", shopify_order(8), "wh-20")
    # When its orders/paid arrives already carrying the cancellation (Shopify took the money,
    # then cancelled the order and refunded it), and maybe the orders/cancelled after it
    cancelled = shopify_order(8, financial_status="refunded", cancelled_at=CANCELLED_AT,
                              cancel_reason="inventory")
    answers = [send(http, topic, cancelled, f"wh-{21 + i}") for i, topic in enumerate(topics)]
    # Then the order is cancelled, its stock back, and finance sees the money come and go back
    assert answers[0].json()["order"]["state"] == "cancelled", answers[0].text
    order = pilot.orders.get("o-1")
    assert (order.state, order.paid, order.refunded, order.payment_status) == (
        "cancelled", 7980, 7980, "refunded")
    assert ledger(pilot) == [("capture", 8980, "shopify:8"), ("refund", 8980, "shopify:8")]
    assert pilot.inventory.level(sku="SKU-1", warehouse="WH-1").reserved == 0
    # And the refund is Shopify's, made already: nothing is sent back through our gateway,
    # and Shopify's refunds/create for it books nothing twice
    assert settlement.cancellation(pilot.context, 1).settled
    again = send(http, "refunds/create", shopify_refund(8, subtotal="79.80", quantity=2,
                                                        shipping="10.00"), "wh-30")
    assert again.status_code == 200 and again.json()["applied"] is False, again.text
    assert ledger(pilot)[-1] == ("refund", 8980, "shopify:8") and len(ledger(pilot)) == 2


@pytest.mark.parametrize(("status", "back_at_cancel"), [
    ("refunded", 8980), ("voided", 8980), ("paid", 0), ("partially_refunded", 0)])
def test_a_cancellation_books_only_the_refund_shopify_says_it_made(storefront, status,
                                                                    back_at_cancel):
    # Given an order paid at checkout in Shopify (¥79.80 of goods, ¥89.80 with shipping), one
    # unit refunded already when the cancellation says partially_refunded
    pilot, http = storefront
    send(http, "orders/create", shopify_order(9, financial_status="paid"), "wh-40")
    before = 3990 if status == "partially_refunded" else 0
    if before:
        send(http, "refunds/create", shopify_refund(9), "wh-41")
    # When the admin cancels it: refunding everything (refunded; voided for an authorisation),
    # or choosing to refund later (Shopify still says paid / partially_refunded)
    answer = send(http, "orders/cancelled", shopify_order(
        9, financial_status=status, cancelled_at=CANCELLED_AT, cancel_reason="customer"),
        "wh-42")
    # Then the order is cancelled and its stock back either way
    assert answer.status_code == 200 and answer.json()["applied"] is True, answer.text
    order = pilot.orders.get("o-1")
    assert order.state == "cancelled"
    assert pilot.inventory.level(sku="SKU-1", warehouse="WH-1").reserved == 0
    # And the order and the ledger count back only what Shopify gave back
    refunded = 7980 if back_at_cancel else before
    assert (order.paid, order.refunded) == (7980, refunded)
    expected = [("capture", 8980, "shopify:9")] + (
        [("refund", 3990, "shopify:509562969")] if before else []) + (
        [("refund", back_at_cancel, "shopify:9")] if back_at_cancel else [])
    assert ledger(pilot) == expected
    # And nothing is sent back through our own gateway
    assert settlement.cancellation(pilot.context, 1).owed == 0 or \
        settlement.cancellation(pilot.context, 1).settled
    if back_at_cancel:
        return
    # When Shopify refunds the rest later, then its refunds/create books it
    rest = shopify_refund(9, subtotal=f"{(7980 - before) / 100:.2f}", quantity=2 - before // 3990,
                          shipping="10.00", refund_id=509_562_970)
    later = send(http, "refunds/create", rest, "wh-43")
    assert later.status_code == 200 and later.json()["applied"] is True, later.text
    order = pilot.orders.get("o-1")
    assert (order.state, order.refunded, order.payment_status) == ("cancelled", 7980,
                                                                    "refunded")
    # And the ledger shows everything Shopify took given back, shipping included
    assert ledger(pilot)[-1] == ("refund", 7980 - before + 1000, "shopify:509562970")
    assert sum(-a if kind == "refund" else a for kind, a, _ in ledger(pilot)) == 0


def test_a_refund_of_shipping_reaches_the_ledger_once(storefront):
    # Given an order paid at checkout in Shopify: ¥79.80 of goods + ¥10.00 顺丰 shipping, booked
    # as a capture of ¥89.80
    pilot, http = storefront
    send(http, "orders/create", shopify_order(10, financial_status="paid"), "wh-50")
    # When Shopify refunds one tin of tea with its shipping (¥49.90 back to the buyer's Alipay)
    refund = shopify_refund(10, shipping="10.00")
    first = send(http, "refunds/create", refund, "wh-51")
    # Then the ledger books the money that moved, shipping included; the order its goods
    assert first.status_code == 200 and first.json()["applied"] is True, first.text
    order = pilot.orders.get("o-1")
    assert (order.paid, order.refunded, order.payment_status) == (7980, 3990,
                                                                  "partially_refunded")
    assert ledger(pilot) == [("capture", 8980, "shopify:10"),
                             ("refund", 4990, "shopify:509562969")]
    # When the same refund is delivered again: a retry (same webhook id), and a resend under a
    # new webhook id (a second subscription)
    retry = send(http, "refunds/create", refund, "wh-51")
    resend = send(http, "refunds/create", refund, "wh-52")
    # Then nothing is booked twice
    assert retry.headers["Idempotent-Replay"] == "true"
    assert resend.status_code == 200 and resend.json()["applied"] is False, resend.text
    assert "already" in resend.json()["note"]
    assert pilot.orders.get("o-1").refunded == 3990 and len(ledger(pilot)) == 2


def test_a_refund_of_shipping_only_and_a_pending_one_book_what_moved(storefront):
    # Given an order paid at checkout (¥89.80 with shipping)
    pilot, http = storefront
    send(http, "orders/create", shopify_order(11, financial_status="paid"), "wh-60")
    # When Shopify refunds the shipping only (the parcel was late: no goods come back)
    only_shipping = shopify_refund(11, subtotal="0.00", quantity=0, shipping="10.00",
                                   refund_id=509_562_970)
    shipping = send(http, "refunds/create", only_shipping, "wh-61")
    # Then the ¥10.00 is in the ledger; the order's goods are not refunded
    assert shipping.status_code == 200 and shipping.json()["applied"] is True, shipping.text
    assert pilot.orders.get("o-1").refunded == 0
    assert ledger(pilot)[-1] == ("refund", 1000, "shopify:509562970")
    # When a refund of one tin arrives whose transaction is still pending at the gateway
    pending = send(http, "refunds/create", shopify_refund(11, refund_id=509_562_971,
                                                          status="pending"), "wh-62")
    # Then no money is booked as given back, and the answer says why
    assert pending.status_code == 200 and pending.json()["applied"] is False, pending.text
    assert "pending" in pending.json()["note"]
    assert pilot.orders.get("o-1").refunded == 0 and len(ledger(pilot)) == 2


def test_a_refund_left_for_later_is_listed_and_reported_overdue_once(storefront, clock):
    # Given an order paid at checkout in Shopify (¥79.80 of tea + ¥10.00 顺丰 shipping) that
    # the admin cancels choosing "refund later" (Shopify still says paid)
    pilot, http = storefront
    send(http, "orders/create", shopify_order(12, financial_status="paid"), "wh-70")
    send(http, "orders/cancelled", shopify_order(12, financial_status="paid",
                                                 cancelled_at=CANCELLED_AT,
                                                 cancel_reason="customer"), "wh-71")
    assert pilot.orders.get("o-1").state == "cancelled"
    # Then finance sees the money still owed to the buyer (the goods, and all the ledger holds)
    owed = pilot.payments.refunds_owed()
    assert [(r["order_id"], r["buyer_id"], r["currency"], r["owed"], r["held"], r["overdue"])
            for r in owed] == [("o-1", "shopify-207119551", "CNY", 7980, 8980, False)]
    # And nobody is alerted before the wait (72 h), then ops are, once, however many sweeps
    assert pilot.payments.sweep()["refunds_owed_alerted"] == 0
    clock.advance(hours=73)
    assert [pilot.payments.sweep()["refunds_owed_alerted"] for _ in range(2)] == [1, 0]
    assert [(a["order_id"], a["amount"], a["held"], a["currency"])
            for a in refund_owed_alerts(pilot)] == [("o-1", 7980, 8980, "CNY")]
    assert pilot.payments.refunds_owed()[0]["overdue"] is True
    # When Shopify finally refunds it all, shipping included
    done = send(http, "refunds/create", shopify_refund(12, subtotal="79.80", quantity=2,
                                                       shipping="10.00"), "wh-72")
    # Then nothing is owed any more, and the ledger nets to zero
    assert done.json()["applied"] is True, done.text
    assert pilot.payments.refunds_owed() == []
    assert sum(-a if kind == "refund" else a for kind, a, _ in ledger(pilot)) == 0


def test_a_partial_refund_does_not_restart_the_overdue_clock_of_a_refund_left_for_later(
        storefront, clock):
    # Given an order paid at checkout (two tins of tea) cancelled with "refund later"
    pilot, http = storefront
    send(http, "orders/create", shopify_order(13, financial_status="paid"), "wh-80")
    send(http, "orders/cancelled", shopify_order(13, financial_status="paid",
                                                 cancelled_at=CANCELLED_AT,
                                                 cancel_reason="customer"), "wh-81")
    cancelled_at = clock.now()
    # When Shopify refunds one tin 50 hours later, and the rest stays owed
    clock.advance(hours=50)
    part = send(http, "refunds/create", shopify_refund(13), "wh-82")
    assert part.json()["applied"] is True, part.text
    # Then the list says since the cancellation (it said since the refund)
    owed = pilot.payments.refunds_owed()
    assert [(r["order_id"], r["owed"], r["since"]) for r in owed] == [
        ("o-1", 3990, cancelled_at.isoformat().replace("+00:00", "Z"))], owed
    # And 73 hours after the cancellation ops are told it is overdue (not 123 hours after it)
    clock.advance(hours=23)
    assert pilot.payments.sweep()["refunds_owed_alerted"] == 1
    assert [(a["order_id"], a["amount"]) for a in refund_owed_alerts(pilot)] == [("o-1", 3990)]
    assert refund_owed_alerts(pilot)[0]["since"][:19] == cancelled_at.isoformat()[:19]
    assert pilot.payments.refunds_owed()[0]["overdue"] is True


def test_the_public_api_cannot_cancel_a_paid_order_leaving_its_refund_for_later(storefront):
    # Given a paid order (placed and paid through the Python API)
    pilot, _ = storefront
    order = pilot.orders.place(
        buyer_id="b-li-lei", lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": 3990}],
        currency="CNY", phone="+86 138 0013 8000",
        shipping_address={"recipient": "李雷", "phone": "+86 138 0013 8000", "province": "广东省",
                          "city": "深圳市", "street": "南山区科技园南区 8 栋 1201",
                          "country": "CN"})
    pilot.orders.fire(order.id, "pay", amount=3990, payment_ref="wx-4200002")
    # When a caller tries to cancel it keeping the money (refund_later is Shopify's, internal)
    with pytest.raises(InvalidInput) as refused:
        pilot.orders.fire(order.id, "cancel", reason="买家取消", refund_later=True)
    # Then it is refused, naming the parameter, and the order is untouched
    assert "refund_later" in refused.value.problems
    assert pilot.orders.get(order.id).state == "paid"
    # And a plain cancel refunds everything: nothing is left owed
    cancelled = pilot.orders.fire(order.id, "cancel", reason="买家取消")
    assert (cancelled.state, cancelled.refunded) == ("cancelled", 3990)
    assert pilot.payments.refunds_owed() == []


def test_an_order_paid_in_shopify_cancelled_here_is_refunded_in_shopify_not_by_our_gateway(
        storefront):
    # Given an order paid at checkout in Shopify (¥79.80 of tea + ¥10.00 shipping)
    pilot, http = storefront
    send(http, "orders/create", shopify_order(14, financial_status="paid"), "wh-90")
    # When staff cancel it here, through the Python API (the buyer rang the shop)
    cancelled = pilot.orders.fire("o-1", "cancel", reason="买家电话取消")
    # Then it is cancelled with its money still with Shopify, and the job that pays a
    # cancellation back asks our own gateway for nothing (it had "refunded" ¥79.80 of a
    # Shopify payment through it, told the buyer so, and Shopify never gave a fen back)
    assert (cancelled.state, cancelled.refunded) == ("cancelled", 0)
    assert settle_cancel(pilot.context, ports(pilot.context), "o-1") == "nothing to settle"
    assert ledger(pilot) == [("capture", 8980, "shopify:14")]
    # And finance sees it owed until it is refunded in Shopify's admin
    assert [(r["order_id"], r["owed"], r["kind"]) for r in pilot.payments.refunds_owed()] == [
        ("o-1", 7980, "refund_later")]
    done = send(http, "refunds/create", shopify_refund(14, subtotal="79.80", quantity=2,
                                                       shipping="10.00"), "wh-91")
    assert done.json()["applied"] is True, done.text
    assert pilot.payments.refunds_owed() == []
    assert sum(-a if kind == "refund" else a for kind, a, _ in ledger(pilot)) == 0


def test_an_order_paid_in_shopify_held_for_review_and_rejected_is_refunded_in_shopify(
        any_url, clock):
    # Given a shop whose risk check sends orders over ¥50 to a person, and an order paid at
    # checkout in Shopify (¥79.80 of tea + ¥10.00 shipping) waiting for that person
    pilot = OrderPilot(any_url, clock=clock, risk_check=review_big_orders, settings=Settings(
        shopify=ShopifyPolicy(webhook_secret=SHOPIFY_SECRET, shop_domain=SHOP)))
    stock(pilot, sku="SKU-1", quantity=20)
    with running_server(pilot) as base_url, patient_client(base_url) as http:
        created = send(http, "orders/create", shopify_order(15, financial_status="paid"),
                       "wh-95")
        order_id = created.json()["order"]["id"]
        assert (created.json()["order"]["state"], pilot.orders.get(order_id).paid) == (
            "under_review", 7980)
        # When the person rejects it
        rejected = pilot.reviews.reject(order_id, by="mei", reason="收货地址可疑")
        # Then it is rejected with its money still with Shopify, and the job that pays a
        # rejection back asks our own gateway for nothing (it "refunded" ¥79.80 of a Shopify
        # payment through it with the ref shopify:15, and told the buyer so)
        assert (rejected.state, rejected.refunded) == ("rejected", 0)
        assert settle_cancel(pilot.context, ports(pilot.context), order_id) == \
            "nothing to settle"
        assert ledger(pilot) == [("capture", 8980, "shopify:15")]
        # And finance sees it owed until it is refunded in Shopify's admin
        assert [(r["order_id"], r["owed"], r["kind"]) for r in
                pilot.payments.refunds_owed()] == [(order_id, 7980, "refund_later")]
        done = send(http, "refunds/create", shopify_refund(15, subtotal="79.80", quantity=2,
                                                           shipping="10.00"), "wh-96")
    assert done.json()["applied"] is True, done.text
    assert pilot.payments.refunds_owed() == []
    assert sum(-a if kind == "refund" else a for kind, a, _ in ledger(pilot)) == 0
    assert pilot.orders.get(order_id).refunded == 7980
    pilot.close()
