"""Which Shopify refund settles a case refund owed in Shopify's admin: the one that gives the
case's units back (Shopify's `refund_line_items[].line_item_id`, read as our lines through the
ids kept when the order was placed), not one of another line that happens to fit its amount.
Units and money may come in parts (two transactions, two refunds). And what else meets such an
owed refund: a cancellation whose refund Shopify left for later. Real HTTP server, webhooks
signed as Shopify signs them, both stores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from integrations.ingest.money_events import apply_money_event
from orderpilot import OrderPilot
from statemachine.ports import MoneyEvent
from statemachine.risk_port import approve_everything
from tests.factories import stock
from tests.integration.connect.providers import shopify_order, shopify_refund
from tests.integration.connect.shopify_http import ledger, send
from tests.integration.connect.test_shopify_case_refunds import (
    events,
    operations,
    serve,
    settings,
)
from tests.integration.integ.server import Client

TEA = 5  # two tins of 龙井 at ¥39.90 (line 1) and a tea set at ¥59.90 (line 2), ¥10 shipping
TIN, TEA_SET = 866_550_311_766_439_000, 866_550_311_766_439_001  # Shopify's line item ids
REFUND = 509_562_969


@pytest.fixture
def shop(any_url, clock) -> Iterator[tuple[OrderPilot, Any, str]]:
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                       settings=settings())
    stock(pilot, sku="SKU-2", quantity=20)
    yield from serve(pilot)


def tea_order(**extra: Any) -> dict[str, Any]:
    body = shopify_order(TEA, skus=("SKU-1", "SKU-2"), financial_status="paid", **extra)
    body["line_items"][1].update(quantity=1, price="59.90", title="青瓷茶具")
    body.update(total_price="149.70", subtotal_price="139.70")
    return body


def owed_case(pilot: OrderPilot, http: Any, tins: int = 1) -> str:
    """The order paid at checkout and a refund-only case on `tins` tins of line 1, approved:
    owed in Shopify's admin."""
    created = send(http, "orders/create", tea_order(), "wh-1")
    assert created.json()["order"]["state"] == "paid", created.text
    case = pilot.cases.open("o-1", kind="refund_only",
                            lines=[{"line_no": 1, "quantity": tins}], reason="茶叶受潮结块")
    pilot.cases.fire(case.id, "review", actor="system:refund-review")
    pilot.cases.approve(case.id, by="mei", reason="照片显示受潮")
    assert operations(pilot) == [("refund", "pending", "shopify", 3990 * tins)]
    return case.id


def refund_of(line_item_id: int, subtotal: str, refund_id: int = REFUND,
              transactions: list[tuple[int, str, str]] | None = None) -> dict[str, Any]:
    """Shopify's refund of one unit of a line item; its transactions (id, amount, status),
    by default one that succeeded for the subtotal."""
    body = shopify_refund(TEA, subtotal=subtotal, refund_id=refund_id)
    body["refund_line_items"][0]["line_item_id"] = line_item_id
    if transactions is not None:
        template = body["transactions"][0]
        body["transactions"] = [template | {"id": i, "amount": amount, "status": status}
                                for i, amount, status in transactions]
    return body


def tin_and_tea_set(refund_id: int, status: str, transaction: int) -> dict[str, Any]:
    """Shopify's refund of one tin (¥39.90, line 1) and the tea set (¥59.90, line 2), its one
    transaction of ¥99.80 in `status`."""
    body = refund_of(TIN, "39.90", refund_id, [(transaction, "99.80", status)])
    body["refund_line_items"].append(body["refund_line_items"][0] | {
        "id": 104_689_540, "line_item_id": TEA_SET, "subtotal": "59.90"})
    return body


def units_refunded(pilot: OrderPilot) -> list[int]:
    return [ln.refunded_quantity for ln in pilot.orders.get("o-1").lines]


def test_a_refund_of_another_line_leaves_the_case_on_line_1_owed(shop):
    pilot, http, _ = shop
    case_id = owed_case(pilot, http)
    # When the merchant refunds the tea set (¥59.90, line 2) in Shopify's admin
    other = send(http, "refunds/create", refund_of(TEA_SET, "59.90"), "wh-2")
    # Then it is the order's own refund: the case's tin is not given back by it, its ¥39.90
    # still owed (before: matched by amount, the oldest refund of ours that fit in ¥59.90 —
    # the case's — was settled, line 1's tin marked refunded, ¥20.00 the order's own)
    assert other.json()["applied"] is True, other.text
    assert pilot.cases.get(case_id).state == "approved"
    assert operations(pilot) == [("refund", "pending", "shopify", 3990)]
    # (the tea set's unit refunded on its line: the order's own refund gave it back)
    assert (pilot.orders.get("o-1").refunded, units_refunded(pilot)) == (5990, [0, 1])
    assert [(r["kind"], r["owed"]) for r in pilot.payments.refunds_owed()] == [
        ("refund_in_admin", 3990)]
    # When the tin is refunded, for a little more than the case asked
    tin = send(http, "refunds/create", refund_of(TIN, "39.90", REFUND + 1), "wh-3")
    # Then that settles the case, once
    assert tin.json()["applied"] is True, tin.text
    assert (pilot.cases.get(case_id).state, pilot.cases.get(case_id).refunded) == (
        "refunded", 3990)
    assert (pilot.orders.get("o-1").refunded, units_refunded(pilot)) == (9980, [1, 1])
    assert pilot.payments.refunds_owed() == []


def test_a_refund_paid_in_two_transactions_settles_the_case_when_the_last_one_does(shop):
    pilot, http, _ = shop
    case_id = owed_case(pilot, http)
    # When Shopify refunds the case's tin in two transactions (¥20.00 settled, ¥19.90 pending)
    refund = refund_of(TIN, "39.90", transactions=[(700, "20.00", "success"),
                                                   (701, "19.90", "pending")])
    first = send(http, "refunds/create", refund, "wh-2")
    # Then the ¥20.00 is booked and held for the case, still owed (not the order's own refund)
    assert first.json()["applied"] is True, first.text
    assert pilot.cases.get(case_id).state == "approved"
    assert pilot.orders.get("o-1").refunded == 0
    assert ledger(pilot)[-1] == ("refund", 2000, f"shopify:{REFUND}")
    # When the pending ¥19.90 succeeds (order_transactions/create)
    last = send(http, "order_transactions/create", {
        "id": 701, "order_id": TEA, "kind": "refund", "status": "success", "amount": "19.90",
        "currency": "CNY"}, "wh-3")
    # Then the case is settled for all it asked (before: each part was less than the case,
    # so each was the order's own refund and the case stayed owed for ever)
    assert last.json()["applied"] is True, last.text
    assert (pilot.cases.get(case_id).state, pilot.cases.get(case_id).refunded) == (
        "refunded", 3990)
    assert (pilot.orders.get("o-1").refunded, units_refunded(pilot)) == (3990, [1, 0])
    assert operations(pilot) == [("refund", "succeeded", "shopify", 3990)]
    assert pilot.payments.refunds_owed() == []


def test_units_given_back_by_two_refunds_add_up_to_the_case(shop):
    pilot, http, _ = shop
    case_id = owed_case(pilot, http, tins=2)
    # When the merchant refunds one tin, then (another day) the other
    one = send(http, "refunds/create", refund_of(TIN, "39.90"), "wh-2")
    assert one.json()["applied"] is True, one.text
    # Then after the first the case (two tins, ¥79.80) still waits, the tin's money held for it
    assert pilot.cases.get(case_id).state == "approved"
    assert pilot.orders.get("o-1").refunded == 0
    two = send(http, "refunds/create", refund_of(TIN, "39.90", REFUND + 1), "wh-3")
    # And the second settles it (before: each ¥39.90 was less than the case: the order's own)
    assert two.json()["applied"] is True, two.text
    assert (pilot.cases.get(case_id).state, pilot.cases.get(case_id).refunded) == (
        "refunded", 7980)
    assert (pilot.orders.get("o-1").refunded, units_refunded(pilot)) == (7980, [2, 0])
    assert pilot.payments.refunds_owed() == []


def test_a_cancellation_refunded_later_does_not_count_the_case_refund_owed_twice(shop):
    pilot, http, _ = shop
    owed_case(pilot, http)
    # When the merchant cancels in Shopify leaving the refund for later (still "paid")
    cancelled = send(http, "orders/cancelled", tea_order(
        cancelled_at="2026-11-20T10:00:00+08:00", cancel_reason="customer"), "wh-2")
    assert cancelled.json()["applied"] is True, cancelled.text
    # Then the cancellation's event says what it left with Shopify beyond the case's refund,
    # which is owed in the admin on its own (before: refund_later ¥139.70, the case's ¥39.90
    # in it too — a consumer adding both counted it twice)
    [event] = events(pilot, "orderpilot.order.cancelled")
    details = event["details"]
    assert (details["refund_later"], details.get("refunds_in_flight")) == (9980, 3990), event
    owed = {r["kind"]: r["owed"] for r in pilot.payments.refunds_owed()}
    assert owed == {"refund_later": 9980, "refund_in_admin": 3990}


def test_a_refund_whose_only_transaction_is_pending_settles_the_case_when_it_succeeds(shop):
    pilot, http, _ = shop
    case_id = owed_case(pilot, http)
    # When the merchant refunds the case's tin in Shopify's admin and its one transaction is
    # still pending at the gateway (no money moved yet)
    refund = refund_of(TIN, "39.90", transactions=[(702, "39.90", "pending")])
    first = send(http, "refunds/create", refund, "wh-2")
    assert first.json()["applied"] is False, first.text
    assert pilot.cases.get(case_id).state == "approved"
    # When it succeeds (order_transactions/create)
    last = send(http, "order_transactions/create", {
        "id": 702, "order_id": TEA, "kind": "refund", "status": "success", "amount": "39.90",
        "currency": "CNY"}, "wh-3")
    # Then it settles the case, its tin back, nothing left owed (before: the refund's units
    # were never noted — refunds/create booked nothing — so the goods became the order's own
    # refund and the case's ¥39.90 stayed listed as owed in the admin: refunded twice if the
    # merchant followed the list)
    assert last.json()["applied"] is True, last.text
    assert (pilot.cases.get(case_id).state, pilot.cases.get(case_id).refunded) == (
        "refunded", 3990)
    assert (pilot.orders.get("o-1").refunded, units_refunded(pilot)) == (3990, [1, 0])
    assert operations(pilot) == [("refund", "succeeded", "shopify", 3990)]
    assert pilot.payments.refunds_owed() == []


def test_a_lost_chargeback_settles_the_case_refund_owed_in_the_admin(shop):
    pilot, http, _ = shop
    case_id = owed_case(pilot, http)

    def notice(event_id: str, kind: str, **extra: str) -> None:
        # no Shopify topic brings a chargeback yet: the provider's notice, as a gateway's is
        apply_money_event(pilot.context, MoneyEvent(
            "simulated", event_id, kind, "shopify:5", 13970, "CNY", pilot.clock.now(),
            order_id="o-1", dispute_ref="dp_1", **extra))

    # When the buyer's bank takes back all the goods (¥139.70) and the merchant loses
    notice("e-1", "dispute_opened", reason="fraudulent")
    notice("e-2", "dispute_closed", outcome="lost")
    # Then the bank paid the case's tin back with the rest: the case's refund is settled by
    # the chargeback, no longer owed in Shopify's admin (before: it stayed listed, ¥39.90 to
    # refund in the admin on top of the ¥139.70 the bank gave back — the buyer paid twice),
    # the order refunded in full once, the case refunded
    assert pilot.payments.refunds_owed() == []
    assert operations(pilot) == [("refund", "succeeded", "shopify", 3990)]
    assert (pilot.cases.get(case_id).state, pilot.orders.get("o-1").refunded) == (
        "refunded", 13970)
    assert ledger(pilot)[-1] == ("chargeback", 13970, "dp_1")


def test_a_refund_whose_settled_part_is_its_shipping_settles_the_case_when_its_goods_do(shop):
    pilot, http, _ = shop
    case_id = owed_case(pilot, http)
    # When the merchant refunds the case's tin and the ¥10 shipping, paid back in two parts:
    # the tin's ¥39.90 still pending at the card's gateway, the ¥10.00 settled at once (a
    # gift card) — the goods go to the first, so the settled part carries none
    refund = shopify_refund(TEA, subtotal="39.90", shipping="10.00")
    template = refund["transactions"][0]
    refund["transactions"] = [template | {"id": 705, "amount": "39.90", "status": "pending"},
                              template | {"id": 706, "amount": "10.00", "status": "success"}]
    first = send(http, "refunds/create", refund, "wh-2")
    assert first.json()["applied"] is True, first.text
    assert pilot.cases.get(case_id).state == "approved"
    # When the tin's ¥39.90 succeeds (order_transactions/create)
    last = send(http, "order_transactions/create", {
        "id": 705, "order_id": TEA, "kind": "refund", "status": "success", "amount": "39.90",
        "currency": "CNY"}, "wh-3")
    # Then it settles the case (before: the units were noted only with goods, the shipping
    # part had none, so the tin's ¥39.90 became the order's own refund and the case's stayed
    # owed in the admin)
    assert last.json()["applied"] is True, last.text
    assert (pilot.cases.get(case_id).state, pilot.cases.get(case_id).refunded) == (
        "refunded", 3990)
    assert (pilot.orders.get("o-1").refunded, units_refunded(pilot)) == (3990, [1, 0])
    assert pilot.payments.refunds_owed() == []


@pytest.fixture
def buyer(shop) -> Iterator[Client]:
    """Signs as the shop's storefront signs (the buyer's requests, ops' reads)."""
    client = Client(shop[2])
    yield client
    client.http.close()


def buyer_asks(pilot: OrderPilot, client: Client, event_id: str, line_no: int) -> Any:
    """The buyer's refund request on one unit of a line (the shop's signed HTTP route)."""
    return client.post("/v1/shop/orders/o-1/cases", at=pilot.clock.now(), payload={
        "event_id": event_id, "kind": "refund_only", "reason": "不想要了",
        "lines": [{"line_no": line_no, "quantity": 1}]})


def test_a_line_the_merchant_refunded_in_shopify_admin_takes_no_case_refund(shop, buyer):
    pilot, http, _ = shop
    created = send(http, "orders/create", tea_order(), "wh-1")
    assert created.json()["order"]["state"] == "paid", created.text
    # When the merchant refunds the tea set (line 2, ¥59.90) in Shopify's admin, no case of
    # ours waiting: the order's own refund
    refund = send(http, "refunds/create", refund_of(TEA_SET, "59.90"), "wh-2")
    assert refund.json()["applied"] is True, refund.text
    # Then the tea set's unit is refunded on its line, not only ¥59.90 of the order's goods
    assert (pilot.orders.get("o-1").refunded, units_refunded(pilot)) == (5990, [0, 1])
    # And the buyer's refund request on the tea set is refused, naming the line (before: the
    # case opened on a unit Shopify had paid back — approved, it was owed in the admin again:
    # the buyer paid twice)
    refused = buyer_asks(pilot, buyer, "as-1", 2)
    assert refused.status_code == 422, refused.text
    problem = refused.json()["problems"]["lines[0].quantity"]
    assert "line 2 has 0 of its 1 units left" in problem, problem
    assert buyer.get("/v1/ops/orders/o-1", at=pilot.clock.now()).json()["cases"] == []
    # While a tin (line 1) may still be asked for
    opened = buyer_asks(pilot, buyer, "as-2", 1)
    assert opened.status_code == 201, opened.text
    assert opened.json()["case"]["requested_amount"] == 3990
    assert len(buyer.get("/v1/ops/orders/o-1", at=pilot.clock.now()).json()["cases"]) == 1


def test_a_case_refund_given_back_in_parts_is_listed_for_what_is_still_owed(shop):
    pilot, http, _ = shop
    case_id = owed_case(pilot, http, tins=2)  # ¥79.80 owed in Shopify's admin
    # When the merchant refunds one tin, its money in two transactions (¥20.00 settled,
    # ¥19.90 still pending at the gateway)
    refund = refund_of(TIN, "39.90", transactions=[(710, "20.00", "success"),
                                                   (711, "19.90", "pending")])
    first = send(http, "refunds/create", refund, "wh-2")
    assert first.json()["applied"] is True, first.text
    # Then the case still waits (the other tin), listed for what Shopify has not given yet:
    # ¥59.80 (before: its full ¥79.80 — finance following the list refunded ¥20.00 twice)
    assert pilot.cases.get(case_id).state == "approved"
    assert [(r["kind"], r["owed"]) for r in pilot.payments.refunds_owed()] == [
        ("refund_in_admin", 5980)]
    # When the pending ¥19.90 succeeds
    last = send(http, "order_transactions/create", {
        "id": 711, "order_id": TEA, "kind": "refund", "status": "success", "amount": "19.90",
        "currency": "CNY"}, "wh-3")
    assert last.json()["applied"] is True, last.text
    # Then one tin's ¥39.90 is still owed (before: ¥79.80)
    assert [(r["kind"], r["owed"]) for r in pilot.payments.refunds_owed()] == [
        ("refund_in_admin", 3990)]
    # And the second tin settles it, nothing owed
    two = send(http, "refunds/create", refund_of(TIN, "39.90", REFUND + 1), "wh-4")
    assert two.json()["applied"] is True, two.text
    assert (pilot.cases.get(case_id).state, pilot.cases.get(case_id).refunded) == (
        "refunded", 7980)
    assert pilot.payments.refunds_owed() == []


def test_a_case_open_on_a_line_the_merchant_then_refunds_in_the_admin_is_not_owed_again(shop):
    pilot, http, _ = shop
    created = send(http, "orders/create", tea_order(), "wh-1")
    assert created.json()["order"]["state"] == "paid", created.text
    # Given the buyer's refund request on the tea set (line 2), waiting for a reviewer
    case = pilot.cases.open("o-1", kind="refund_only", lines=[{"line_no": 2, "quantity": 1}],
                            reason="茶具有裂纹")
    pilot.cases.fire(case.id, "review", actor="system:refund-review")
    # When the merchant refunds the tea set in Shopify's admin meanwhile (no refund of ours
    # owed yet: the order's own refund)
    refund = send(http, "refunds/create", refund_of(TEA_SET, "59.90"), "wh-2")
    assert refund.json()["applied"] is True, refund.text
    assert units_refunded(pilot) == [0, 1]
    # Then approving the case refunds nothing more: its refund is refused naming the line, and
    # nothing is owed in Shopify's admin (before: the unit was free, the approval recorded
    # ¥59.90 owed in the admin — the merchant following the list refunded the tea set twice)
    approved = pilot.cases.approve(case.id, by="mei", reason="照片显示裂纹")
    assert approved.refund is not None and approved.refund.status == "refused", approved
    assert "line 2: 1 unit(s) to settle, 0 not refunded" in (approved.refund.error or "")
    assert operations(pilot) == []
    assert pilot.payments.refunds_owed() == []
    assert pilot.orders.get("o-1").refunded == 5990


@pytest.mark.parametrize(("paid_back", "shipping", "by_amount"), [
    ("39.90", "0.00", 2990),  # the tin: ¥10.00 of it taken for the shipping Shopify holds
    ("49.90", "10.00", 3990),  # the tin and the shipping: the tin's ¥39.90 all counted
])
def test_a_case_approved_between_a_refunds_transaction_and_its_late_refund_is_settled_by_it(
        shop, paid_back, shipping, by_amount):
    pilot, http, _ = shop
    created = send(http, "orders/create", tea_order(), "wh-1")
    assert created.json()["order"]["state"] == "paid", created.text
    # Given the merchant's refund of a tin in Shopify's admin whose transaction arrives first
    # (order_transactions/create): no refund of ours waits, so its goods are counted by
    # amount (what passes the ¥10.00 shipping Shopify holds), its units unknown
    first = send(http, "order_transactions/create", {
        "id": 800, "order_id": TEA, "kind": "refund", "status": "success",
        "amount": paid_back, "currency": "CNY"}, "wh-2")
    assert first.json()["applied"] is True, first.text
    assert pilot.orders.get("o-1").refunded == by_amount
    # And then a refund-only request on a tin approved: owed in the admin
    case = pilot.cases.open("o-1", kind="refund_only", lines=[{"line_no": 1, "quantity": 1}],
                            reason="茶叶受潮结块")
    pilot.cases.fire(case.id, "review", actor="system:refund-review")
    pilot.cases.approve(case.id, by="mei", reason="照片显示受潮")
    assert [(r["kind"], r["owed"]) for r in pilot.payments.refunds_owed()] == [
        ("refund_in_admin", 3990)]
    # When the refund itself arrives late, naming the tin (its transaction booked already)
    body = shopify_refund(TEA, subtotal="39.90", shipping=shipping, transaction_id=800)
    late = send(http, "refunds/create", body, "wh-3")
    # Then it settles the case for the tin's ¥39.90 — what was counted by amount is the case's
    # — nothing left owed, the order counting the ¥39.90 once, the tin refunded once (before:
    # with ¥29.90 counted by amount the case was settled for ¥10.00 and `refund:c-1:rest`
    # ¥29.90 stayed owed in the admin; with all of it counted the tin was marked the order's
    # own refund and the case's ¥39.90 stayed owed for ever — finance following the list
    # refunded the tin twice)
    assert late.status_code == 200 and late.json()["applied"] is True, late.text
    assert (pilot.cases.get(case.id).state, pilot.cases.get(case.id).refunded) == (
        "refunded", 3990)
    assert operations(pilot) == [("refund", "succeeded", "shopify", 3990)]
    assert pilot.payments.refunds_owed() == []
    assert (pilot.orders.get("o-1").refunded, units_refunded(pilot)) == (3990, [1, 0])
    assert ledger(pilot)[1:] == [("refund", round(float(paid_back) * 100),
                                  "shopify:transaction:800")]  # the money booked once
    refunds = [(h.entity, h.payload["amount"]) for h in pilot.orders.history("o-1")
               if h.trigger == "refund"]
    assert refunds == [("order", by_amount), ("case", 3990)] + (
        [("order", 3990 - by_amount)] if by_amount < 3990 else [])


def test_the_progress_of_a_case_refund_is_current_once_settled(shop):
    pilot, http, _ = shop
    case_id = owed_case(pilot, http, tins=2)  # ¥79.80 owed in Shopify's admin

    def kept() -> dict[str, Any]:
        with pilot.context.tx(readonly=True) as tx:
            return tx.store.inbox_get(f"admin-refund:refund:{case_id}") or {}

    # When the merchant refunds one tin, then the other, each settled at once
    send(http, "refunds/create", refund_of(TIN, "39.90"), "wh-2")
    send(http, "refunds/create", refund_of(TIN, "39.90", REFUND + 1), "wh-3")
    assert pilot.cases.get(case_id).state == "refunded"
    # Then the case's progress says what settled it: both tins, all the money, both refunds
    # (before: the state before the last refund — one tin, ¥39.90 — as if it still waited)
    progress = kept()
    assert (progress["units"], progress["given"], progress["refs"], progress["waiting"]) == (
        {"1": 2}, 7980, [f"shopify:{REFUND}", f"shopify:{REFUND + 1}"], []), progress


def test_the_rest_of_a_case_refund_given_short_under_an_open_chargeback_is_still_owed(shop):
    # imported here: test_shopify_disputes imports this module
    from tests.integration.connect.test_shopify_disputes import shopify_dispute

    pilot, http, _ = shop
    case_id = owed_case(pilot, http)  # one tin, ¥39.90 owed in Shopify's admin
    # Given the buyer's bank opened a chargeback of the tea set's ¥59.90, still open
    opened = send(http, "disputes/create", shopify_dispute(TEA, amount="59.90"), "wh-d1")
    assert opened.json()["dispute"]["state"] == "opened", opened.text
    # When the merchant refunds the tin in the admin, giving only ¥20.00 for it
    refund = send(http, "refunds/create",
                  refund_of(TIN, "39.90", transactions=[(710, "20.00", "success")]), "wh-2")
    # Then the refund is applied, and the ¥19.90 it left short is owed in the admin still: the
    # rest of a refund recorded before the chargeback, not a new refund it stops (without the
    # `rest_of` exemption in money_requests.request the webhook was refused naming the
    # chargeback and the merchant's refund was never booked)
    assert refund.status_code == 200 and refund.json()["applied"] is True, refund.text
    assert [(r["kind"], r["owed"]) for r in pilot.payments.refunds_owed()] == [
        ("refund_in_admin", 1990)]
    assert pilot.orders.get("o-1").refunded == 2000
    assert pilot.cases.get(case_id).state == "refunded"
