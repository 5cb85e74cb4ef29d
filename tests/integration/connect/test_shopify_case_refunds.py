"""An after-sales refund of an order paid through Shopify: Shopify holds the money and the
merchant refunds it in Shopify's admin, so orderpilot never asks its own gateway for it. The
approval (Python API, HTTP decision), `pilot.cases.refund`, the console's settle job and the
money sweep leave it owed — listed, the caller told where it is to be made — and Shopify's
refunds/create (real HTTP, signed as Shopify signs) settles it once: the case refunded, the
order counting it, the ledger booking Shopify's money once. Before: the refund was recorded
for the shop's gateway — the simulated one booked a refund Shopify never made, a real one
(Stripe's SDK, at a local stand-in of its API) refused it. Both stores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from integrations.config import Settings
from integrations.connect_config import ShopifyPolicy
from integrations.console.jobs import Ports, settle_refund
from integrations.payments.stripe_gateway import StripeGateway
from integrations.service.money_refunds import refund_order
from orderpilot import OrderPilot
from statemachine.errors import GuardRejected
from statemachine.risk_port import approve_everything
from tests.factories import stock
from tests.fakes.http import patient_client
from tests.fakes.stripe_api import FakeStripe
from tests.integration.connect.providers import (
    SHOP,
    SHOPIFY_SECRET,
    shopify_order,
    shopify_refund,
    shopify_transaction,
)
from tests.integration.connect.shopify_http import ledger, send
from tests.integration.integ.server import Client, running_server

TEA = 5  # the Shopify order: two tins of tea at ¥39.90, ¥10.00 顺丰 shipping: ¥89.80 paid
REFUND, TX = 509_562_969, 179_259_969  # Shopify's refund of one tin, and its transaction
CAPTURE = ("capture", 8980, "shopify:5")


def serve(pilot: OrderPilot) -> Iterator[tuple[OrderPilot, Any, str]]:
    stock(pilot, sku="SKU-1", quantity=20)
    with running_server(pilot) as base_url, patient_client(base_url) as http:
        yield pilot, http, base_url
    pilot.close()


def settings() -> Settings:
    return Settings(shopify=ShopifyPolicy(webhook_secret=SHOPIFY_SECRET, shop_domain=SHOP))


@pytest.fixture
def shop(any_url, clock) -> Iterator[tuple[OrderPilot, Any, str]]:
    """A shop on the default (simulated) gateway taking Shopify webhooks on a real server."""
    yield from serve(OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                                settings=settings()))


@pytest.fixture
def stripe_shop(any_url, clock) -> Iterator[tuple[OrderPilot, Any, FakeStripe]]:
    """The same, its gateway Stripe's SDK pointed at a local stand-in of Stripe's API."""
    with FakeStripe() as fake:
        gateway = StripeGateway("sk_test_orderpilot_local", api_base=fake.url, max_retries=2,
                                timeout_seconds=2.0)
        for pilot, http, _ in serve(OrderPilot(any_url, clock=clock, gateway=gateway,
                                               risk_check=approve_everything,
                                               settings=settings())):
            yield pilot, http, fake


def held_request(pilot: OrderPilot, http: Any) -> str:
    """Shopify's order paid at checkout, and a refund-only request on one tin (¥39.90) held
    for a person; its case id."""
    created = send(http, "orders/create", shopify_order(TEA, financial_status="paid"), "wh-1")
    assert created.json()["order"]["state"] == "paid", created.text
    case = pilot.cases.open("o-1", kind="refund_only", lines=[{"line_no": 1, "quantity": 1}],
                            reason="茶叶受潮结块")
    pilot.cases.fire(case.id, "review", actor="system:refund-review")
    return case.id


def operations(pilot: OrderPilot) -> list[tuple[str, str, str, int]]:
    with pilot.context.tx(readonly=True) as tx:
        return [tuple(r) for r in tx.store.sql.all(
            "SELECT kind, status, provider, amount FROM payment_operations ORDER BY id", {})]


def events(pilot: OrderPilot, name: str) -> list[dict]:
    with pilot.context.tx(readonly=True) as tx:
        return [tx.store.sql.doc(r[0]) for r in tx.store.sql.all(
            "SELECT payload FROM outbox WHERE event = :e ORDER BY id", {"e": name})]


def console(pilot: OrderPilot) -> Ports:
    return Ports(gateway=pilot.context.gateway, carrier=lambda *a: None,
                 notify=lambda message: None, retry_delays=(0.01,))


def assert_owed_in_admin(pilot: OrderPilot, case_id: str) -> None:
    """The case's refund waits for the merchant: pending at Shopify, nothing booked."""
    assert operations(pilot) == [("refund", "pending", "shopify", 3990)]
    assert ledger(pilot) == [CAPTURE]
    assert (pilot.cases.get(case_id).state, pilot.orders.get("o-1").refunded) == ("approved", 0)
    owed = pilot.payments.refunds_owed()
    assert [(r["order_id"], r["kind"], r["owed"]) for r in owed] == [
        ("o-1", "refund_in_admin", 3990)], owed
    assert f"after-sales {case_id}" in owed[0]["reason"]
    assert "to refund in Shopify's admin" in owed[0]["reason"]


def test_an_approved_refund_of_shopify_money_is_owed_in_its_admin_then_settled_once(shop):
    pilot, http, _ = shop
    case_id = held_request(pilot, http)
    # When a person approves it (Python API)
    approved = pilot.cases.approve(case_id, by="mei", reason="照片显示受潮")
    # Then no refund is booked at the shop's gateway (before: the simulated gateway booked
    # ¥39.90 refunded while Shopify still held it): it is owed in Shopify's admin, and the
    # approval says so
    assert (approved.state, approved.refunded) == ("approved", 0)
    assert approved.refund_note and "to refund in Shopify's admin" in approved.refund_note
    assert_owed_in_admin(pilot, case_id)
    # And asking again (pilot.cases.refund), the console's settle job and the money sweep
    # ask nothing of the gateway either: one refund owed, the answers saying where it is made
    again = pilot.cases.refund(case_id, by="finance:li")
    assert (again.status, again.in_admin_of, again.error) == ("pending", "shopify", None)
    assert again.note and "to refund in Shopify's admin" in again.note
    assert settle_refund(pilot.context, console(pilot), case_id).startswith(
        "approved: to refund in Shopify's admin")
    pilot.clock.advance(minutes=5)
    assert pilot.payments.sweep()["retried"] == 0
    assert_owed_in_admin(pilot, case_id)
    # When the merchant refunds the tin in Shopify's admin and refunds/create arrives
    settled = send(http, "refunds/create", shopify_refund(TEA), "wh-2")
    # Then it settles the case's refund: the case refunded, the order counting the tin once
    # (units too), Shopify's money booked once in the ledger, nothing owed any more
    assert settled.status_code == 200 and settled.json()["applied"] is True, settled.text
    assert operations(pilot) == [("refund", "succeeded", "shopify", 3990)]
    case, order = pilot.cases.get(case_id), pilot.orders.get("o-1")
    assert (case.state, case.refunded) == ("refunded", 3990)
    assert (order.refunded, [ln.refunded_quantity for ln in order.lines]) == (3990, [1])
    assert ledger(pilot) == [CAPTURE, ("refund", 3990, f"shopify:{REFUND}")]
    assert pilot.payments.refunds_owed() == []
    # And sent again under another webhook id (a second subscription), nothing moves twice
    resent = send(http, "refunds/create", shopify_refund(TEA), "wh-3")
    assert resent.json()["applied"] is False and "already" in resent.json()["note"]
    assert (pilot.orders.get("o-1").refunded, pilot.cases.get(case_id).refunded) == (3990,
                                                                                    3990)
    assert len(ledger(pilot)) == 2 and len(operations(pilot)) == 1


def test_a_settled_transaction_before_its_refund_leaves_the_case_to_the_refund(shop):
    pilot, http, _ = shop
    case_id = held_request(pilot, http)
    pilot.cases.approve(case_id, by="mei", reason="照片显示受潮")
    # When Shopify refunds the tin with its shipping (¥49.90) and the transaction's webhook
    # comes first: its money is booked, and no goods are counted by amount (that would count
    # ¥39.90 - ¥10.00 held beyond the goods = ¥29.90: part of the case's refund)
    first = send(http, "order_transactions/create",
                 shopify_transaction(TEA, TX, amount="49.90"), "wh-2")
    assert first.json()["applied"] is True, first.text
    assert pilot.orders.get("o-1").refunded == 0
    assert pilot.cases.get(case_id).state == "approved"
    # When refunds/create names the goods (one tin, ¥39.90)
    refund = shopify_refund(TEA, shipping="10.00", transaction_id=TX)
    second = send(http, "refunds/create", refund, "wh-3")
    # Then the case's refund is settled by it, the money not booked again
    assert second.json()["applied"] is True, second.text
    assert (pilot.cases.get(case_id).state, pilot.orders.get("o-1").refunded) == ("refunded",
                                                                                  3990)
    assert operations(pilot) == [("refund", "succeeded", "shopify", 3990)]
    assert ledger(pilot) == [CAPTURE, ("refund", 4990, f"shopify:transaction:{TX}")]
    # And both again, under other webhook ids: nothing more
    send(http, "order_transactions/create", shopify_transaction(TEA, TX, amount="49.90"),
         "wh-4")
    send(http, "refunds/create", refund, "wh-5")
    assert pilot.orders.get("o-1").refunded == 3990 and len(ledger(pilot)) == 2
    assert pilot.payments.refunds_owed() == []


def test_the_case_tin_refunded_for_less_settles_the_case_for_that_the_rest_owed(shop):
    pilot, http, _ = shop
    case_id = held_request(pilot, http)
    pilot.cases.approve(case_id, by="mei", reason="照片显示受潮")
    # When the merchant gives the case's tin back in Shopify's admin for ¥10.00 only
    partial = send(http, "refunds/create", shopify_refund(TEA, subtotal="10.00"), "wh-2")
    # Then the case's refund is settled for what Shopify gave (the case refunded ¥10.00, the
    # order counting it, the tin back), and the ¥29.90 it fell short stays owed in Shopify's
    # admin, naming the case and no units (before, by amount: ¥10.00 was the order's own
    # refund and the case's ¥39.90 stayed owed, its tin not counted back)
    assert partial.json()["applied"] is True, partial.text
    order = pilot.orders.get("o-1")
    assert (order.refunded, [ln.refunded_quantity for ln in order.lines]) == (1000, [1])
    assert (pilot.cases.get(case_id).state, pilot.cases.get(case_id).refunded) == (
        "refunded", 1000)
    assert operations(pilot) == [("refund", "succeeded", "shopify", 1000),
                                 ("refund", "pending", "shopify", 2990)]
    owed = pilot.payments.refunds_owed()
    assert [(r["kind"], r["owed"]) for r in owed] == [("refund_in_admin", 2990)]
    assert case_id in owed[0]["reason"] and "to refund in Shopify's admin" in owed[0]["reason"]
    # And the rest, made in Shopify's admin as an amount (no line items), settles it
    made = send(http, "refunds/create", amount_only_refund(REFUND + 1, "29.90"), "wh-3")
    assert made.json()["applied"] is True, made.text
    assert pilot.payments.refunds_owed() == []
    assert pilot.orders.get("o-1").refunded == 3990
    assert operations(pilot)[-1] == ("refund", "succeeded", "shopify", 2990)


def test_the_refund_owed_in_shopify_is_spoken_for(shop):
    pilot, http, _ = shop
    case_id = held_request(pilot, http)
    pilot.cases.approve(case_id, by="mei", reason="照片显示受潮")
    # When another request, on the other tin, is approved too
    other = pilot.cases.open("o-1", kind="refund_only", lines=[{"line_no": 1, "quantity": 1}],
                             reason="第二罐也受潮")
    pilot.cases.fire(other.id, "review", actor="system:refund-review")
    pilot.cases.approve(other.id, by="mei", reason="同意")
    # Then both are owed in Shopify's admin, and the ¥79.80 of goods are spoken for: a
    # goodwill refund of ¥1.00 more is refused (as beside any refund of ours in flight)
    assert operations(pilot) == [("refund", "pending", "shopify", 3990)] * 2
    with pytest.raises(GuardRejected, match="exceeds what is left"):
        refund_order(pilot.context, 1, 100, "goodwill", "finance:li")
    # When the merchant refunds both tins in one Shopify refund, both are settled
    both = send(http, "refunds/create", shopify_refund(TEA, subtotal="79.80", quantity=2),
                "wh-2")
    assert both.json()["applied"] is True, both.text
    assert [pilot.cases.get(c).state for c in (case_id, other.id)] == ["refunded"] * 2
    assert pilot.orders.get("o-1").refunded == 7980


def test_the_http_decision_says_the_refund_is_made_in_shopify(shop):
    pilot, http, base_url = shop
    case_id = held_request(pilot, http)
    client = Client(base_url)
    # When the reviewer grants it over HTTP (signed at the shop's time)
    answer = client.post(f"/v1/reviews/cases/{case_id}/decision", {
        "event_id": "rev-c-1", "decision": "approve", "reviewer": "amy",
        "reason": "照片显示受潮"}, at=pilot.clock.now())
    client.http.close()
    # Then the answer says the refund is pending, to be made in Shopify's admin
    assert answer.status_code == 200, answer.text
    refund = answer.json()["refund"]
    assert (refund["status"], refund["in_admin_of"]) == ("pending", "shopify"), refund
    assert "to refund in Shopify's admin" in refund["note"]
    assert answer.json()["case"]["state"] == "approved"
    assert_owed_in_admin(pilot, case_id)


def test_a_real_gateway_is_never_asked_to_refund_shopify_money(stripe_shop):
    pilot, http, stripe = stripe_shop
    case_id = held_request(pilot, http)
    # When the request is approved, refunded again by hand, and settled by the console's job
    # (before: Stripe refused it — PermanentPaymentError on approve, the refund failed)
    approved = pilot.cases.approve(case_id, by="mei", reason="照片显示受潮")
    again = pilot.cases.refund(case_id, by="finance:li")
    job = settle_refund(pilot.context, console(pilot), case_id)
    # Then Stripe was asked nothing, nothing failed, and the refund is owed in Shopify's admin
    assert stripe.calls("POST", "/v1/refunds") == []
    assert approved.refund_note and again.status == "pending" and job.startswith("approved")
    assert events(pilot, "orderpilot.order.money_failed") == []
    assert_owed_in_admin(pilot, case_id)
    # And Shopify's refunds/create settles it
    send(http, "refunds/create", shopify_refund(TEA), "wh-2")
    assert (pilot.cases.get(case_id).state, pilot.orders.get("o-1").refunded) == ("refunded",
                                                                                  3990)
    assert stripe.requests == []


def test_a_cancellation_shopify_refunded_in_full_settles_the_case_refund_it_covered(shop):
    pilot, http, _ = shop
    case_id = held_request(pilot, http)
    pilot.cases.approve(case_id, by="mei", reason="照片显示受潮")
    # When the merchant cancels the order in Shopify, refunding all of it (¥89.80: both tins
    # and the shipping), the case's tin among it
    cancelled = send(http, "orders/cancelled", shopify_order(
        TEA, financial_status="refunded", cancelled_at="2026-11-20T10:00:00+08:00",
        cancel_reason="customer"), "wh-2")
    assert cancelled.json()["applied"] is True, cancelled.text
    # Then the buyer is owed nothing: the case's refund was made by that refund (before: it
    # stayed owed in Shopify's admin, ¥39.90 listed, the order counting ¥39.90 of its ¥79.80
    # of goods refunded forever — no refunds/create could settle it: it books nothing more)
    assert pilot.payments.refunds_owed() == []
    assert operations(pilot) == [("refund", "succeeded", "shopify", 3990)]
    order = pilot.orders.get("o-1")
    assert (order.state, order.paid, order.refunded) == ("cancelled", 7980, 7980)
    assert (pilot.cases.get(case_id).state, pilot.cases.get(case_id).refunded) == ("refunded",
                                                                                   3990)
    assert ledger(pilot) == [CAPTURE, ("refund", 8980, "shopify:5")]
    # And Shopify's refunds/create of it books nothing more
    send(http, "refunds/create", shopify_refund(TEA, subtotal="79.80", quantity=2,
                                                shipping="10.00"), "wh-3")
    assert pilot.orders.get("o-1").refunded == 7980 and len(ledger(pilot)) == 2
    assert pilot.payments.refunds_owed() == []


def amount_only_refund(refund_id: int, amount: str) -> dict[str, Any]:
    """A refund the merchant makes in Shopify's admin as an amount, no line items: Shopify
    records the money beyond the (no) goods as a `refund_discrepancy` order adjustment."""
    body = shopify_refund(TEA, subtotal="0.00", quantity=0, amount=amount, refund_id=refund_id)
    body["order_adjustments"] = [{"id": 1_030_976_843, "order_id": TEA, "refund_id": refund_id,
                                  "kind": "refund_discrepancy", "reason": "Refund discrepancy",
                                  "amount": f"-{amount}", "tax_amount": "0.00"}]
    return body


def test_a_goodwill_refund_owed_in_shopify_is_settled_by_an_amount_refunded_there(shop):
    pilot, http, _ = shop
    send(http, "orders/create", shopify_order(TEA, financial_status="paid"), "wh-1")
    # Given a goodwill refund of ¥5.00 (no units) of Shopify's money: owed in its admin
    refund_order(pilot.context, 1, 500, "物流延误补偿", "finance:li")
    assert [(r["kind"], r["owed"]) for r in pilot.payments.refunds_owed()] == [
        ("refund_in_admin", 500)]
    # When a shipping-only refund of the same ¥5.00 comes, it is not that goodwill
    send(http, "refunds/create", shopify_refund(TEA, subtotal="0.00", quantity=0,
                                                shipping="5.00"), "wh-2")
    assert operations(pilot) == [("refund", "pending", "shopify", 500)]
    # When the merchant refunds ¥5.00 as an amount in Shopify's admin (no line items)
    made = send(http, "refunds/create", amount_only_refund(REFUND + 1, "5.00"), "wh-3")
    # Then it settles the goodwill refund once (before: the ledger booked ¥5.00 back, yet it
    # stayed owed — listed, and spoken for — for ever: no goods would ever settle it)
    assert made.json()["applied"] is True, made.text
    assert operations(pilot) == [("refund", "succeeded", "shopify", 500)]
    assert pilot.payments.refunds_owed() == []
    assert pilot.orders.get("o-1").refunded == 500
    assert ledger(pilot)[-1] == ("refund", 500, f"shopify:{REFUND + 1}")
    send(http, "refunds/create", amount_only_refund(REFUND + 1, "5.00"), "wh-4")
    assert pilot.orders.get("o-1").refunded == 500 and len(ledger(pilot)) == 3


def test_a_goodwill_refund_made_in_shopify_with_its_money_pending_settles_when_it_succeeds(
        shop):
    pilot, http, _ = shop
    send(http, "orders/create", shopify_order(TEA, financial_status="paid"), "wh-1")
    # Given a goodwill refund of ¥5.00 (no units) of Shopify's money: owed in its admin
    refund_order(pilot.context, 1, 500, "物流延误补偿", "finance:li")
    # When the merchant refunds ¥5.00 as an amount in Shopify's admin, its transaction still
    # pending at the gateway, and then Shopify says it succeeded
    made = amount_only_refund(REFUND + 1, "5.00")
    made["transactions"][0].update(id=TX + 1, status="pending")
    send(http, "refunds/create", made, "wh-2")
    assert operations(pilot) == [("refund", "pending", "shopify", 500)]
    settled = send(http, "order_transactions/create", shopify_transaction(
        TEA, transaction_id=TX + 1, amount="5.00"), "wh-3")
    # Then it settles the goodwill refund once (before: only refunds/create settled a
    # unit-less refund of ours; the transaction booked the ¥5.00 in the ledger and the
    # goodwill stayed owed in the admin — the merchant following the list paid it twice)
    assert settled.json()["applied"] is True, settled.text
    assert operations(pilot) == [("refund", "succeeded", "shopify", 500)]
    assert pilot.payments.refunds_owed() == []
    assert pilot.orders.get("o-1").refunded == 500
    assert ledger(pilot)[-1] == ("refund", 500, f"shopify:{REFUND + 1}")


def test_a_goodwill_refund_whose_transaction_came_first_is_settled_by_its_refund(shop):
    pilot, http, _ = shop
    send(http, "orders/create", shopify_order(TEA, financial_status="paid"), "wh-1")
    refund_order(pilot.context, 1, 500, "物流延误补偿", "finance:li")
    # When the merchant's ¥5.00 amount refund reaches us as its settled transaction first
    # (order_transactions/create), then as its refund (refunds/create)
    send(http, "order_transactions/create", shopify_transaction(
        TEA, transaction_id=TX + 2, amount="5.00"), "wh-2")
    made = amount_only_refund(REFUND + 2, "5.00")
    made["transactions"][0]["id"] = TX + 2
    answer = send(http, "refunds/create", made, "wh-3")
    # Then the refund settles the goodwill refund once, its money booked once (before: the
    # refund found its money booked already and stopped; the goodwill stayed owed)
    assert answer.json()["applied"] is True, answer.text
    assert operations(pilot) == [("refund", "succeeded", "shopify", 500)]
    assert pilot.payments.refunds_owed() == []
    assert pilot.orders.get("o-1").refunded == 500
    assert [row for row in ledger(pilot) if row[0] == "refund"] == [
        ("refund", 500, f"shopify:transaction:{TX + 2}")]


def test_a_goodwill_refund_is_settled_by_the_part_of_a_refund_already_paid(shop):
    pilot, http, _ = shop
    send(http, "orders/create", shopify_order(TEA, financial_status="paid"), "wh-1")
    refund_order(pilot.context, 1, 500, "物流延误补偿", "finance:li")
    # When the merchant refunds a tin and the ¥5.00 goodwill in one refund in Shopify's
    # admin, paid in two parts: the tin's ¥39.90 still pending at the card's gateway, the
    # ¥5.00 settled at once (a gift card)
    made = amount_only_refund(REFUND + 3, "5.00")
    made["refund_line_items"] = shopify_refund(TEA)["refund_line_items"]
    template = made["transactions"][0]
    made["transactions"] = [template | {"id": TX + 3, "amount": "39.90", "status": "pending"},
                            template | {"id": TX + 4, "amount": "5.00", "status": "success"}]
    answer = send(http, "refunds/create", made, "wh-2")
    # Then the ¥5.00 paid settles the goodwill at once, whatever becomes of the tin's part
    # (7457a6b kept it until every part was in: a part that then failed left it owed)
    assert answer.json()["applied"] is True, answer.text
    assert operations(pilot) == [("refund", "succeeded", "shopify", 500)]
    assert pilot.payments.refunds_owed() == []
