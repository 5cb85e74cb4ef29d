"""Money Shopify took for an order that can no longer take it (its hold lapsed here, or a
reviewer rejected it) is late money, as the Stripe and Alipay webhooks book it: in the ledger
(`late_capture`), owed back to the buyer until Shopify's refund of it arrives, or — under
ORDERPILOT_LATE_PAYMENTS=revive — the expired order revived and paid. Shopify's money is
given back in Shopify's admin: orderpilot never sends it back through the shop's gateway."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest

from integrations.config import Settings
from integrations.connect_config import ShopifyPolicy
from integrations.payments.simulated import AdoptingGateway
from orderpilot import OrderPilot
from statemachine.ports import TransientPaymentError
from statemachine.risk_port import approve_everything
from tests.factories import stock
from tests.fakes.http import patient_client
from tests.integration.connect.providers import (
    SHOP,
    SHOPIFY_SECRET,
    shopify_order,
    shopify_refund,
    shopify_transaction,
)
from tests.integration.connect.shopify_http import ledger, send
from tests.integration.integ.server import review_big_orders, running_server

TEA = 5  # two tins of tea: ¥79.80 of goods, ¥89.80 with 顺丰 shipping
ALL_BACK = dict(subtotal="79.80", quantity=2, shipping="10.00")


@contextmanager
def shopify_shop(url: str, clock: Any, risk_check: Any = None, gateway: Any = None,
                 **settings: Any) -> Iterator[tuple[OrderPilot, httpx.Client]]:
    """A shop taking Shopify webhooks on a running server, with these settings."""
    pilot = OrderPilot(url, clock=clock, risk_check=risk_check or approve_everything,
                       gateway=gateway, settings=Settings(shopify=ShopifyPolicy(
                           webhook_secret=SHOPIFY_SECRET, shop_domain=SHOP), **settings))
    stock(pilot, sku="SKU-1", quantity=20)
    with running_server(pilot) as base_url, patient_client(base_url) as http:
        yield pilot, http
    pilot.close()


def expired(pilot: OrderPilot, http: httpx.Client, clock) -> None:  # noqa: ANN001
    placed = send(http, "orders/create", shopify_order(TEA), "wh-1")
    assert placed.status_code in (200, 201), placed.text
    clock.advance(minutes=31)
    pilot.sweep()
    assert pilot.orders.get("o-1").state == "expired"


def outbox_events(pilot: OrderPilot, name: str) -> list[dict]:
    with pilot.context.tx(readonly=True) as tx:
        return [tx.store.sql.doc(r[0]) for r in tx.store.sql.all(
            "SELECT payload FROM outbox WHERE event = :e ORDER BY id", {"e": name})]


def test_money_for_an_expired_order_is_booked_owed_and_cleared_by_shopifys_refund(
        storefront, clock):
    # Given a Shopify order whose stock hold lapsed here before the buyer paid
    pilot, http = storefront
    expired(pilot, http, clock)
    # When Shopify's orders/paid arrives: the buyer paid ¥89.80 (goods and shipping)
    paid = send(http, "orders/paid", shopify_order(TEA, financial_status="paid"), "wh-2")
    # Then the money is in the ledger as late money, the order stays expired, and staff are
    # told (before: "payment not applied", nothing written)
    assert paid.status_code == 200 and paid.json()["applied"] is True, paid.text
    assert "late" in paid.json()["note"] and "Shopify" in paid.json()["note"]
    order = pilot.orders.get("o-1")
    assert (order.state, order.paid) == ("expired", 0)
    assert ledger(pilot) == [("late_capture", 8980, "shopify:5")]
    assert [(e["amount"], e["payment_ref"]) for e in
            outbox_events(pilot, "orderpilot.order.late_payment")] == [(8980, "shopify:5")]
    # And finance sees it owed back to the buyer
    assert [(r["order_id"], r["kind"], r["owed"], r["held"], r["payment_ref"])
            for r in pilot.payments.refunds_owed()] == [
        ("o-1", "late_payment", 8980, 8980, "shopify:5")]
    # And the money sweep does not send it back through the shop's own gateway (Shopify holds
    # it: it is refunded in Shopify's admin)
    pilot.payments.sweep(clock.now() + timedelta(hours=1))
    assert ledger(pilot) == [("late_capture", 8980, "shopify:5")]
    # When the same payment is delivered again under another webhook id
    again = send(http, "orders/paid", shopify_order(TEA, financial_status="paid"), "wh-3")
    # Then it is not booked twice
    assert again.json()["applied"] is False and "already" in again.json()["note"], again.text
    assert len(ledger(pilot)) == 1
    # When the merchant refunds it all in Shopify (goods and shipping)
    refund = send(http, "refunds/create", shopify_refund(TEA, **ALL_BACK), "wh-4")
    # Then the refund is booked against the late money (before: 422, the ledger "holds only
    # 0"), the order's goods untouched (it never took the money), and nothing is owed
    assert refund.status_code == 200 and refund.json()["applied"] is True, refund.text
    assert ledger(pilot)[-1] == ("refund", 8980, "shopify:509562969")
    assert pilot.orders.get("o-1").refunded == 0
    assert pilot.payments.refunds_owed() == []
    assert [e["payment_ref"] for e in
            outbox_events(pilot, "orderpilot.order.late_payment_refunded")] == ["shopify:5"]


def test_late_money_refunded_in_two_parts_stays_owed_until_the_last(storefront, clock):
    # Given late money for an expired order (¥89.80)
    pilot, http = storefront
    expired(pilot, http, clock)
    send(http, "orders/paid", shopify_order(TEA, financial_status="paid"), "wh-2")
    # When Shopify refunds the goods first (pending at the gateway, then settled)
    send(http, "refunds/create", shopify_refund(TEA, subtotal="79.80", quantity=2,
                                                status="pending"), "wh-3")
    settled = send(http, "order_transactions/create",
                   shopify_transaction(TEA, amount="79.80"), "wh-4")
    # Then the ¥79.80 is booked and the shipping is still owed
    assert settled.json()["applied"] is True, settled.text
    assert [(r["kind"], r["owed"]) for r in pilot.payments.refunds_owed()] == [
        ("late_payment", 1000)]
    # When the shipping is refunded too, then nothing is owed
    shipping = shopify_refund(TEA, subtotal="0.00", quantity=0, shipping="10.00",
                              refund_id=509_562_970)
    assert send(http, "refunds/create", shipping, "wh-5").json()["applied"] is True
    assert pilot.payments.refunds_owed() == []
    assert sum(-a if kind == "refund" else a for kind, a, _ in ledger(pilot)) == 0


def test_money_for_an_order_a_reviewer_rejected_is_late_money(any_url, clock):
    # Given a Shopify order held for review (over ¥50) that the reviewer rejects
    with shopify_shop(any_url, clock, review_big_orders) as (pilot, http):
        send(http, "orders/create", shopify_order(TEA), "wh-1")
        pilot.reviews.reject("o-1", by="mei", reason="盗刷风险")
        # When Shopify's orders/paid arrives
        paid = send(http, "orders/paid", shopify_order(TEA, financial_status="paid"), "wh-2")
        # Then it is late money, owed back to the buyer
        assert paid.json()["applied"] is True, paid.text
        assert pilot.orders.get("o-1").state == "rejected"
        assert ledger(pilot) == [("late_capture", 8980, "shopify:5")]
        assert [(r["kind"], r["owed"]) for r in pilot.payments.refunds_owed()] == [
            ("late_payment", 8980)]


@pytest.mark.parametrize("topic", ["orders/paid", "orders/updated"])
def test_under_the_revive_policy_an_expired_order_is_revived_and_paid(any_url, clock, topic):
    # Given the shop revives late money, and a Shopify order whose hold lapsed
    with shopify_shop(any_url, clock, late_payments="revive") as (pilot, http):
        expired(pilot, http, clock)
        # When Shopify says it was paid
        paid = send(http, topic, shopify_order(TEA, financial_status="paid"), "wh-2")
        # Then the order takes its stock again and is paid; the ledger shows a capture
        assert paid.json()["applied"] is True, paid.text
        order = pilot.orders.get("o-1")
        assert (order.state, order.paid) == ("paid", 7980)
        assert ledger(pilot) == [("capture", 8980, "shopify:5")]
        assert pilot.payments.refunds_owed() == []


def test_a_failed_refund_of_late_money_is_owed_once(storefront, clock):
    # Given late money for an expired order (¥89.80), owed back in Shopify's admin
    pilot, http = storefront
    expired(pilot, http, clock)
    paid = send(http, "orders/paid", shopify_order(TEA, financial_status="paid"), "wh-2")
    assert paid.status_code == 200 and paid.json()["applied"] is True, paid.text
    # When the merchant's refund of it all is pending at the gateway, then fails
    pending = send(http, "refunds/create", shopify_refund(TEA, **ALL_BACK, status="pending"),
                   "wh-3")
    assert pending.status_code == 200 and pending.json()["applied"] is False, pending.text
    failed = send(http, "order_transactions/create",
                  shopify_transaction(TEA, 179_259_969, amount="89.80", status="failure"),
                  "wh-4")
    assert failed.status_code == 200 and failed.json()["applied"] is True, failed.text
    # Then the buyer is owed ¥89.80 once, as a failed refund (before: also as late money,
    # ¥179.60 listed in all)
    owed = pilot.payments.refunds_owed()
    assert [(r["kind"], r["owed"]) for r in owed] == [("refund_failed", 8980)], owed
    # When the merchant refunds it again and it succeeds
    redone = send(http, "refunds/create", shopify_refund(TEA, refund_id=509_562_970,
                                                         **ALL_BACK), "wh-5")
    # Then nothing is owed, and neither refund is left waiting
    assert redone.json()["applied"] is True, redone.text
    assert pilot.payments.refunds_owed() == []
    with pilot.context.tx(readonly=True) as tx:
        assert tx.store.sql.all("SELECT idem_key FROM payment_operations WHERE "
                                "status = 'pending'") == []


class _Unreachable(AdoptingGateway):
    """The shop's own gateway, down: every refund is left pending for the money sweep."""

    def refund(self, payment_ref: str, amount: int, **kw: Any) -> Any:
        raise TransientPaymentError("gateway unreachable")


def test_dollars_another_provider_took_are_never_added_to_the_yuan_owed_in_shopify(
        any_url, clock):
    # Given Shopify's ¥89.80 taken for an expired order (owed back, in Shopify's admin), and
    # US$129.00 taken for the same order by the shop's own gateway, reported through the API:
    # late money too, its refund in dollars waiting for the gateway to come back
    with shopify_shop(any_url, clock, gateway=_Unreachable()) as (pilot, http):
        expired(pilot, http, clock)
        send(http, "orders/paid", shopify_order(TEA, financial_status="paid"), "wh-2")
        dollars = pilot.orders.pay("o-1", amount=12_900, payment_ref="wx-usd-1",
                                   currency="USD")
        assert dollars.outcome == "refunded"
        # When finance lists what is owed in Shopify's admin
        owed = pilot.payments.refunds_owed()
        # Then it is Shopify's yuan only (before: held and owed 21,880 "CNY" — ¥89.80 plus
        # the 12,900 US cents), and the dollars are booked as dollars
        assert [(r["kind"], r["currency"], r["owed"], r["held"]) for r in owed] == [
            ("late_payment", "CNY", 8980, 8980)]
        assert [(kind, amount, currency) for kind, amount, currency in booked(pilot)] == [
            ("late_capture", 8980, "CNY"), ("late_capture", 12_900, "USD")]


def test_an_orders_paid_in_another_currency_than_the_shopify_orders_is_refused(
        storefront, clock):
    # Given a Shopify order placed here in yuan (a Shopify order's currency never changes:
    # a buyer paying in dollars is its presentment_currency, its amounts stay the shop's)
    pilot, http = storefront
    expired(pilot, http, clock)
    # When an orders/paid for it says USD
    paid = send(http, "orders/paid", shopify_order(TEA, financial_status="paid",
                                                   currency="USD"), "wh-2")
    # Then it is refused naming `currency`, nothing written (not booked as yuan)
    assert paid.status_code == 422 and "currency" in paid.json()["problems"], paid.text
    assert ledger(pilot) == [] and pilot.payments.refunds_owed() == []


def booked(pilot: OrderPilot) -> list[tuple[str, int, str]]:
    with pilot.context.tx(readonly=True) as tx:
        return [(k, a, c) for k, a, c in tx.store.sql.all(
            "SELECT kind, amount, currency FROM payment_records ORDER BY id")]
