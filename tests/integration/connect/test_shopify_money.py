"""Shopify's money given back, over a real HTTP server: a refund pending at the gateway is
booked when order_transactions/create says it succeeded (Shopify does not send refunds/create
again), and the same refund transaction is booked once whichever webhook brings it."""

from __future__ import annotations

import pytest

from tests.integration.connect.providers import (
    shopify_order,
    shopify_refund,
    shopify_transaction,
)
from tests.integration.connect.shopify_http import CANCELLED_AT, ledger, send
from tests.integration.integ.server import row_counts

TEA = 5  # the Shopify order id: two tins of tea, ¥79.80, ¥89.80 with 顺丰 shipping
REFUND, TX = 509_562_969, 179_259_969  # a refund and its one transaction


def paid_order(http, webhook_id: str = "wh-1") -> None:
    created = send(http, "orders/create", shopify_order(TEA, financial_status="paid"),
                   webhook_id)
    assert created.json()["order"]["state"] == "paid", created.text


def test_a_refund_pending_at_the_gateway_is_booked_when_it_settles_once(storefront):
    # Given an order paid at checkout that the admin cancels choosing "refund later"
    pilot, http = storefront
    paid_order(http)
    send(http, "orders/cancelled", shopify_order(TEA, financial_status="paid",
                                                 cancelled_at=CANCELLED_AT), "wh-2")
    # When Shopify refunds it all, shipping included, through a gateway that settles later
    everything = shopify_refund(TEA, subtotal="79.80", quantity=2, shipping="10.00",
                                status="pending")
    pending = send(http, "refunds/create", everything, "wh-3")
    # Then nothing is booked yet, and the buyer is still owed the money
    assert pending.json()["applied"] is False and "pending" in pending.json()["note"]
    assert [r["owed"] for r in pilot.payments.refunds_owed()] == [7980]
    # When the gateway settles it: Shopify sends order_transactions/create for the transaction
    settled = send(http, "order_transactions/create",
                   shopify_transaction(TEA, TX, amount="89.80"), "wh-4")
    # Then the money is booked (the ledger nets to zero) and the order refunded its goods
    assert settled.status_code == 200 and settled.json()["applied"] is True, settled.text
    order = pilot.orders.get("o-1")
    assert (order.state, order.refunded, order.payment_status) == ("cancelled", 7980,
                                                                    "refunded")
    assert ledger(pilot) == [("capture", 8980, "shopify:5"), ("refund", 8980, f"shopify:{REFUND}")]
    assert pilot.payments.refunds_owed() == []
    # And delivered again under other webhook ids (a second subscription), nothing is booked
    # twice: neither the settlement nor the refund
    again = send(http, "order_transactions/create",
                 shopify_transaction(TEA, TX, amount="89.80"), "wh-5")
    resent = send(http, "refunds/create", {**everything, "transactions": [
        {**everything["transactions"][0], "status": "success"}]}, "wh-6")
    assert again.json()["applied"] is False and "already" in again.json()["note"], again.text
    assert resent.json()["applied"] is False and "already" in resent.json()["note"]
    assert len(ledger(pilot)) == 2 and pilot.orders.get("o-1").refunded == 7980


def test_a_settled_refund_is_booked_once_whichever_webhook_comes_first(storefront):
    # Given two paid orders, each refunded one tin of tea (¥39.90)
    pilot, http = storefront
    paid_order(http)
    send(http, "orders/create", shopify_order(6, financial_status="paid"), "wh-2")
    first = shopify_refund(TEA)
    second = shopify_refund(6, refund_id=REFUND + 1)
    # When the first's refunds/create comes before its transaction's webhook, and the
    # second's after it
    answers = [send(http, "refunds/create", first, "wh-3"),
               send(http, "order_transactions/create", shopify_transaction(TEA, TX), "wh-4"),
               send(http, "order_transactions/create", shopify_transaction(6, TX + 1), "wh-5"),
               send(http, "refunds/create", second, "wh-6")]
    # Then each refund's money is booked once and each order refunded its tin once
    assert [a.json()["applied"] for a in answers] == [True, False, True, True], \
        [a.text for a in answers]
    assert "already" in answers[1].json()["note"]
    assert [pilot.orders.get(o).refunded for o in ("o-1", "o-2")] == [3990, 3990]
    assert ledger(pilot) == [("capture", 8980, "shopify:5"), ("capture", 8980, "shopify:6"),
                             ("refund", 3990, f"shopify:{REFUND}"),
                             ("refund", 3990, f"shopify:transaction:{TX + 1}")]


def test_transactions_other_than_refunds_book_nothing(storefront):
    # Given a paid order
    pilot, http = storefront
    paid_order(http)
    before = row_counts(pilot)
    # When Shopify reports its sale, a capture, and a failed sale (payments come with
    # orders/paid; a failed refund is owed again: test_a_pending_refund_that_fails_...)
    answers = [send(http, "order_transactions/create", shopify_transaction(
        TEA, TX + n, amount="89.80", kind=kind, status=status), f"wh-{n + 2}")
        for n, (kind, status) in enumerate((("sale", "success"), ("capture", "success"),
                                            ("sale", "failure")))]
    # Then each is answered 200 and nothing is written
    assert [(a.status_code, a.json()["applied"]) for a in answers] == [(200, False)] * 3
    assert row_counts(pilot) == before


def test_a_settled_refund_in_another_currency_or_for_an_unknown_order_is_refused(storefront):
    pilot, http = storefront
    paid_order(http)
    before = row_counts(pilot)
    other = send(http, "order_transactions/create",
                 shopify_transaction(TEA, TX, currency="USD"), "wh-2")
    unknown = send(http, "order_transactions/create", shopify_transaction(99, TX), "wh-3")
    assert other.status_code == 422 and "currency" in other.json()["problems"], other.text
    assert unknown.status_code == 404, unknown.text
    assert row_counts(pilot) == before


def test_a_settled_refund_whose_refund_never_arrives_counts_its_goods_by_amount(storefront):
    # Given two paid orders (¥79.80 of tea + ¥10.00 shipping each, ¥89.80 booked)
    pilot, http = storefront
    paid_order(http)
    send(http, "orders/create", shopify_order(6, financial_status="paid"), "wh-2")
    # When Shopify settles a refund of one tin with its shipping (¥49.90) on the first, and
    # of one tin only (¥39.90) on the second, and neither refunds/create ever arrives
    answers = [send(http, "order_transactions/create",
                    shopify_transaction(TEA, TX, amount="49.90"), "wh-3"),
               send(http, "order_transactions/create",
                    shopify_transaction(6, TX + 1, amount="39.90"), "wh-4")]
    # Then the money is in the ledger, and each order counts as goods refunded what of it
    # passes the ¥10.00 Shopify holds beyond the goods (before: nothing, the orders showed
    # paid in full, the tea refundable again); the units refunded are unknown: none marked
    assert [a.json()["applied"] for a in answers] == [True, True], [a.text for a in answers]
    assert ledger(pilot)[-2:] == [("refund", 4990, f"shopify:transaction:{TX}"),
                                  ("refund", 3990, f"shopify:transaction:{TX + 1}")]
    first, second = pilot.orders.get("o-1"), pilot.orders.get("o-2")
    assert (first.refunded, first.payment_status) == (3990, "partially_refunded")
    assert (second.refunded, second.payment_status) == (2990, "partially_refunded")
    assert [ln.refunded_quantity for ln in first.lines + second.lines] == [0, 0]
    # When the second's refunds/create arrives after all, then it counts the rest of its
    # goods: one tin, once
    late = send(http, "refunds/create", shopify_refund(6, refund_id=REFUND + 1,
                                                       transaction_id=TX + 1), "wh-5")
    assert late.json()["applied"] is True, late.text
    assert pilot.orders.get("o-2").refunded == 3990 and len(ledger(pilot)) == 4


def test_a_refund_left_for_later_settled_without_its_refund_is_no_longer_owed(storefront):
    # Given an order paid at checkout, cancelled with "refund later"
    pilot, http = storefront
    paid_order(http)
    send(http, "orders/cancelled", shopify_order(TEA, financial_status="paid",
                                                 cancelled_at=CANCELLED_AT), "wh-2")
    assert [r["owed"] for r in pilot.payments.refunds_owed()] == [7980]
    # When Shopify settles the refund of everything (¥89.80) and its refunds/create is lost
    settled = send(http, "order_transactions/create",
                   shopify_transaction(TEA, TX, amount="89.80"), "wh-3")
    # Then the ledger nets to zero, the order is refunded, and nothing is listed as owed
    # (before: still owed ¥79.80, and reported overdue to ops after 72 h)
    assert settled.json()["applied"] is True, settled.text
    assert sum(-a if kind == "refund" else a for kind, a, _ in ledger(pilot)) == 0
    order = pilot.orders.get("o-1")
    assert (order.refunded, order.payment_status) == (7980, "refunded")
    assert pilot.payments.refunds_owed() == []


def outbox_events(pilot, name: str) -> list[dict]:
    with pilot.context.tx(readonly=True) as tx:
        return [tx.store.sql.doc(r[0]) for r in tx.store.sql.all(
            "SELECT payload FROM outbox WHERE event = :e ORDER BY id", {"e": name})]


def test_a_pending_refund_that_fails_is_owed_again_and_ops_are_told(storefront, clock):
    # Given a paid order, refunded one tin (¥39.90) through a gateway that settles later
    pilot, http = storefront
    paid_order(http)
    send(http, "refunds/create", shopify_refund(TEA, status="pending"), "wh-2")
    # When the gateway fails it: Shopify sends order_transactions/create with status failure
    clock.advance(hours=1)
    failed = send(http, "order_transactions/create",
                  shopify_transaction(TEA, TX, status="failure"), "wh-3")
    # Then ops are told at once, and the money is listed as owed again, with the reason
    # (before: 200 "orderpilot books refunds that succeeded", nothing written or listed)
    assert failed.status_code == 200 and failed.json()["applied"] is True, failed.text
    assert [(e["amount"], e["transaction"], e["refund"]) for e in
            outbox_events(pilot, "orderpilot.order.refund_failed")] == [(3990, TX, REFUND)]
    owed = pilot.payments.refunds_owed()
    assert [(r["order_id"], r["kind"], r["owed"]) for r in owed] == [
        ("o-1", "refund_failed", 3990)], owed
    assert f"refund {REFUND} failed" in owed[0]["reason"] and "failure" in owed[0]["reason"]
    assert owed[0]["since"].startswith(clock.now().isoformat()[:19])
    assert pilot.orders.get("o-1").refunded == 0 and ledger(pilot)[-1][0] == "refund_failed"
    # And delivered again under another webhook id, it is not listed twice
    again = send(http, "order_transactions/create",
                 shopify_transaction(TEA, TX, status="failure"), "wh-4")
    assert again.json()["applied"] is False and len(pilot.payments.refunds_owed()) == 1
    # When the merchant refunds the tin again in Shopify, and it succeeds
    redone = send(http, "refunds/create", shopify_refund(TEA, refund_id=REFUND + 1), "wh-5")
    # Then it is booked, and nothing is owed any more
    assert redone.json()["applied"] is True, redone.text
    assert pilot.orders.get("o-1").refunded == 3990
    assert pilot.payments.refunds_owed() == []


def test_a_failed_refund_of_a_refund_left_for_later_is_listed_once_as_failed(storefront):
    # Given an order cancelled with "refund later": listed as owed
    pilot, http = storefront
    paid_order(http)
    send(http, "orders/cancelled", shopify_order(TEA, financial_status="paid",
                                                 cancelled_at=CANCELLED_AT), "wh-2")
    # When Shopify's refund of everything (¥89.80) is pending, then ends in error
    send(http, "refunds/create", shopify_refund(TEA, subtotal="79.80", quantity=2,
                                                shipping="10.00", status="pending"), "wh-3")
    send(http, "order_transactions/create",
         shopify_transaction(TEA, TX, amount="89.80", status="error"), "wh-4")
    # Then the order is listed once, as a failed refund saying why (before: "refund later"
    # as if nobody had tried, the failure nowhere)
    owed = pilot.payments.refunds_owed()
    assert [(r["kind"], r["owed"], r["held"]) for r in owed] == [("refund_failed", 8980, 8980)]
    assert "error" in owed[0]["reason"]


def test_a_failed_refund_of_one_tin_of_a_refund_left_for_later_keeps_the_other_owed(
        storefront):
    # Given an order of two tins cancelled with "refund later": ¥79.80 of goods owed
    pilot, http = storefront
    paid_order(http)
    send(http, "orders/cancelled", shopify_order(TEA, financial_status="paid",
                                                 cancelled_at=CANCELLED_AT), "wh-2")
    # When Shopify's refund of one tin (¥39.90) is pending, then fails
    send(http, "refunds/create", shopify_refund(TEA, status="pending"), "wh-3")
    send(http, "order_transactions/create",
         shopify_transaction(TEA, TX, status="failure"), "wh-4")
    # Then the failed tin is listed as a failed refund and the other is still owed, left for
    # later: ¥79.80 in all (before: the failure alone, ¥39.90 — the other tin nowhere)
    owed = pilot.payments.refunds_owed()
    assert sorted((r["kind"], r["owed"]) for r in owed) == [("refund_failed", 3990),
                                                             ("refund_later", 3990)], owed


def units_refunded(pilot) -> list[int]:
    return [ln.refunded_quantity for ln in pilot.orders.get("o-1").lines]


@pytest.mark.parametrize("arrival", ["refund, then its failure", "the failure, then its refund"])
def test_a_tin_whose_refund_failed_is_not_refunded_and_its_redo_refunds_it_once(
        storefront, arrival):
    # Given a paid order of two tins of tea (line 1)
    pilot, http = storefront
    paid_order(http)
    # When the merchant refunds one tin in Shopify's admin (¥39.90) and the gateway fails it
    refund = shopify_refund(TEA, status="pending")
    failure = shopify_transaction(TEA, TX, status="failure")
    if arrival == "refund, then its failure":
        assert send(http, "refunds/create", refund, "wh-2").status_code == 200
        failed = send(http, "order_transactions/create", failure, "wh-3")
    else:
        failed = send(http, "order_transactions/create", failure, "wh-2")
        refund["transactions"][0]["status"] = "failure"
        assert send(http, "refunds/create", refund, "wh-3").status_code == 200
    assert failed.json()["applied"] is True, failed.text
    # Then the tin is not refunded: the buyer was not paid back, so a case may still ask for
    # it (before, the refund arriving first left it marked refunded)
    assert (pilot.orders.get("o-1").refunded, units_refunded(pilot)) == (0, [0])
    assert [(r["kind"], r["owed"]) for r in pilot.payments.refunds_owed()] == [
        ("refund_failed", 3990)]
    # When the merchant refunds the tin again, naming it, and it succeeds
    redone = send(http, "refunds/create", shopify_refund(TEA, refund_id=REFUND + 1), "wh-5")
    # Then the tin is refunded once (before: line 1 at 2 of 2 tins, one never refunded)
    assert redone.json()["applied"] is True, redone.text
    assert (pilot.orders.get("o-1").refunded, units_refunded(pilot)) == (3990, [1])
    assert pilot.payments.refunds_owed() == []
