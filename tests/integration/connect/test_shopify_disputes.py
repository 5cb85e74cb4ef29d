"""Shopify Payments chargebacks (disputes/create, disputes/update) reach the order and the
dispute review: opened once, closed once by the bank's outcome, the chargeback booked on a
loss — settling a case refund still owed in Shopify's admin. Real HTTP server, webhooks signed
as Shopify signs them, both stores."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from integrations.console import casefiles, decisions
from integrations.console.casework import DISPUTE_REVIEW, open_case
from integrations.console.jobs import Ports
from integrations.db.settlement_store import SettlementStore
from integrations.ingest.money_events import apply_money_event
from statemachine.errors import GuardRejected
from statemachine.ports import MoneyEvent
from tests.integration.connect.providers import shopify_order
from tests.integration.connect.shopify_http import ledger, send
from tests.integration.connect.test_shopify_case_refund_lines import (  # noqa: F401 - fixture
    TEA,
    TIN,
    owed_case,
    refund_of,
    shop,
    tea_order,
    units_refunded,
)
from tests.integration.connect.test_shopify_case_refunds import events, operations
from tests.integration.integ.server import row_counts

ORDER = 5_890_123_456  # ¥79.80 of tea (two tins at ¥39.90) + ¥10.00 shipping, paid at checkout
DISPUTE = 285_332_461_850_454


def shopify_dispute(order_id: int | None = ORDER, status: str = "needs_response",
                    amount: str = "79.80", kind: str = "chargeback", currency: str = "CNY",
                    **extra: Any) -> dict[str, Any]:
    """A disputes/create or disputes/update body shaped as Shopify's Dispute resource (REST
    Admin shopify_payments/disputes: the fields its webhook sends)."""
    final = status in ("won", "lost", "accepted", "charge_refunded", "prevented")
    return {"id": DISPUTE, "order_id": order_id, "type": kind, "amount": amount,
            "currency": currency, "reason": "fraudulent", "network_reason_code": "4837",
            "status": status, "evidence_due_by": "2026-12-10T23:59:59+08:00",
            "evidence_sent_on": "2026-12-05T10:00:00+08:00"
            if status not in ("needs_response",) else None,
            "finalized_on": "2026-12-20T10:00:00+08:00" if final else None,
            "initiated_at": "2026-11-25T09:00:00+08:00", **extra}


def evidence_alerts(pilot: Any) -> list[str]:
    with pilot.context.tx(readonly=True) as tx:
        return [str(r[0])[:19] for r in tx.store.sql.all(
            "SELECT due_at FROM deadlines WHERE kind = 'dispute_evidence'", {})]


def settled_disputes(pilot: Any) -> list[tuple[int, datetime]]:
    """Our side of a settlement with Shopify: the dispute movements booked, and when."""
    with pilot.context.tx(readonly=True) as tx:
        entries = SettlementStore(tx.store.sql).entries(
            "shopify", datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    return [(e.amount, e.at) for e in entries if e.kind == "dispute"]


def paid_order(http: Any) -> None:
    created = send(http, "orders/create", shopify_order(financial_status="paid"), "wh-order")
    assert created.json()["order"]["state"] == "paid", created.text


def test_a_chargeback_opens_a_dispute_on_the_order_and_a_loss_books_it(storefront):
    pilot, http = storefront
    paid_order(http)
    # When Shopify says the buyer's bank disputes the goods
    opened = send(http, "disputes/create", shopify_dispute(), "wh-d1")
    # Then the dispute is open on the order, for the console's dispute review, due when
    # Shopify says the evidence is due
    assert opened.status_code == 200 and opened.json()["applied"] is True, opened.text
    [dispute] = pilot.disputes.list()
    assert (dispute["order_id"], dispute["state"], dispute["amount"], dispute["currency"],
            dispute["provider"], dispute["provider_ref"]) == (
        "o-1", "opened", 7980, "CNY", "shopify", str(DISPUTE))
    assert (dispute["kind"], dispute["reason"]) == ("chargeback", "fraudulent, network code 4837")
    assert dispute["due_by"] == "2026-12-10T15:59:59+00:00"
    assert evidence_alerts(pilot) == ["2026-12-08 15:59:59"]  # 48 h before it is due
    # When the merchant answers in Shopify's admin and the bank decides against it
    review = send(http, "disputes/update", shopify_dispute(status="under_review"), "wh-d2")
    assert review.json()["applied"] is False and "opened" in review.json()["note"]
    lost = send(http, "disputes/update", shopify_dispute(status="lost"), "wh-d3")
    # Then the chargeback is booked on the order and in the ledger
    assert lost.json()["dispute"]["state"] == "lost", lost.text
    assert pilot.orders.get("o-1").refunded == 7980
    assert ledger(pilot)[-1] == ("chargeback", 7980, str(DISPUTE))


def test_a_shopify_dispute_is_prepared_here_but_answered_in_shopifys_admin(storefront):
    pilot, http = storefront
    paid_order(http)
    send(http, "disputes/create", shopify_dispute(), "wh-d1")
    # the evidence pack is mapped here (to copy into Shopify's admin) ...
    prepared = pilot.disputes.prepare("d-1", by="finance:li")
    assert prepared["state"] == "evidence_due" and prepared["evidence"]
    # ... but neither submitted nor conceded through our gateway, which knows nothing of it
    for answer in (lambda: pilot.disputes.submit("d-1", by="finance:li"),
                   lambda: pilot.disputes.accept("d-1", by="finance:li", reason="买家已收到退款")):
        with pytest.raises(GuardRejected, match="answered in Shopify's admin"):
            answer()
    assert pilot.disputes.get("d-1")["state"] == "evidence_due"


def test_the_console_review_of_a_shopify_dispute_sends_nothing_and_says_where_to_answer(
        storefront):
    pilot, http = storefront
    paid_order(http)
    send(http, "disputes/create", shopify_dispute(), "wh-d1")
    # The dispute is a console case, its form saying it is answered in Shopify's admin
    decisions.prepare_dispute(pilot.context, "d-1")
    case = open_case(pilot.context, DISPUTE_REVIEW, "d-1")
    assert case is not None and case.order_id == "o-1"
    text = casefiles.dispute_description(pilot.context, case, pilot.clock.now())
    assert "**Nothing is sent from here**" in text and "Shopify's admin" in text
    assert "shopify evidence field (Stripe's name)" in text and "Stripe evidence field" not in text

    def no_gateway(*_: Any, **__: Any) -> None:
        raise AssertionError("a Shopify dispute was sent to our gateway")

    ports = Ports(gateway=type("NoGateway", (), {"submit_evidence": no_gateway,  # type: ignore
                                                  "accept": no_gateway})(),
                  carrier=lambda *_: None, notify=lambda _m: None, retry_delays=())
    # When a reviewer submits from the form: nothing is sent, the outcome says where to answer
    outcome = decisions.decide_dispute(pilot.context, ports, "d-1", {
        "decision": "submit", "note": "签收记录齐全", "reviewer": "李娜", "extra_text": ""})
    assert outcome.startswith("nothing sent: a Shopify Payments dispute is answered in "
                              "Shopify's admin"), outcome
    assert pilot.disputes.get("d-1")["state"] == "evidence_due"


def test_a_dispute_won_books_nothing(storefront):
    pilot, http = storefront
    paid_order(http)
    send(http, "disputes/create", shopify_dispute(), "wh-d1")
    won = send(http, "disputes/update", shopify_dispute(status="won"), "wh-d2")
    assert won.json()["dispute"]["state"] == "won", won.text
    assert pilot.orders.get("o-1").refunded == 0
    assert [kind for kind, _, _ in ledger(pilot)] == ["capture"]


def test_replays_of_a_dispute_webhook_move_nothing_twice(storefront):
    pilot, http = storefront
    paid_order(http)
    send(http, "disputes/create", shopify_dispute(), "wh-d1")
    first = send(http, "disputes/update", shopify_dispute(status="lost"), "wh-d2")
    # The same delivery again (Shopify's retry): the stored answer
    again = send(http, "disputes/update", shopify_dispute(status="lost"), "wh-d2")
    assert again.headers.get("Idempotent-Replay") == "true"
    assert again.json()["dispute"] == first.json()["dispute"]
    # The same dispute and status under other webhook ids (a second subscription, a resend
    # from the admin), and its create again: nothing moves
    resent = send(http, "disputes/update", shopify_dispute(status="lost"), "wh-d3")
    created_again = send(http, "disputes/create", shopify_dispute(), "wh-d4")
    assert (resent.json()["applied"], created_again.json()["applied"]) == (False, False)
    assert "already lost" in resent.json()["note"]
    assert len(pilot.disputes.list()) == 1
    assert [row for row in ledger(pilot) if row[0] == "chargeback"] == [
        ("chargeback", 7980, str(DISPUTE))]
    assert pilot.orders.get("o-1").refunded == 7980


def test_a_dispute_first_heard_of_closed_is_opened_and_closed(storefront):
    pilot, http = storefront
    paid_order(http)
    # the disputes/create was lost (endpoint down past Shopify's retries): the update says all
    answer = send(http, "disputes/update", shopify_dispute(status="accepted"), "wh-d1")
    assert answer.json()["dispute"]["state"] == "accepted", answer.text
    assert pilot.orders.get("o-1").refunded == 7980


def test_an_inquiry_is_opened_moves_no_money_and_keeps_its_dispute_as_a_chargeback(
        storefront):
    pilot, http = storefront
    paid_order(http)
    send(http, "disputes/create", shopify_dispute(kind="inquiry"), "wh-d1")
    [dispute] = pilot.disputes.list()
    assert (dispute["state"], dispute["kind"], dispute["reason"]) == (
        "opened", "inquiry", "fraudulent, network code 4837")
    # the inquiry turns into a chargeback while open (same Shopify dispute id), then is lost
    send(http, "disputes/update", shopify_dispute(status="needs_response"), "wh-d2")
    send(http, "disputes/update", shopify_dispute(status="lost"), "wh-d3")
    [dispute] = pilot.disputes.list()
    assert dispute["state"] == "lost"
    assert pilot.orders.get("o-1").refunded == 7980


def dispute_events(pilot: Any) -> list[tuple[str, str, str, datetime, int]]:
    """The dispute's outbox events: kind, state, the due date (as an instant), amount."""
    with pilot.context.tx(readonly=True) as tx:
        return [(r[0], (p := r[1] if isinstance(r[1], dict) else json.loads(r[1]))["kind"],
                 p["state"], datetime.fromisoformat(p["due_by"]), p["amount"])
                for r in tx.store.sql.all(
            "SELECT event, payload FROM outbox WHERE event LIKE 'orderpilot.dispute.%' "
            "ORDER BY id", {})]


def test_an_open_inquiry_shopify_turns_into_a_chargeback_is_escalated_to_it(storefront):
    pilot, http = storefront
    paid_order(http)
    # Given an open inquiry on the whole payment, its response due on 10 December
    send(http, "disputes/create", shopify_dispute(kind="inquiry"), "wh-d1")
    assert evidence_alerts(pilot) == ["2026-12-08 15:59:59"]
    # When Shopify turns it into a chargeback (same dispute id) for one tin, due in January
    charged = send(http, "disputes/update", shopify_dispute(
        status="needs_response", amount="39.90", reason="product_not_received",
        network_reason_code="13.1", evidence_due_by="2027-01-05T23:59:59+08:00"), "wh-d2")
    # Then the dispute is the chargeback: its kind, reason, due date and amount, unanswered
    assert charged.status_code == 200 and charged.json()["applied"] is True, charged.text
    assert "escalated as a chargeback" in charged.json()["note"]
    dispute = pilot.disputes.get("d-1")
    assert (dispute["state"], dispute["kind"], dispute["reason"], dispute["due_by"],
            dispute["amount"]) == ("opened", "chargeback", "product_not_received, network code "
                                   "13.1", "2027-01-05T15:59:59+00:00", 3990)
    # And the evidence alert fires on the chargeback's date only (the inquiry's is gone)
    assert evidence_alerts(pilot) == ["2027-01-03 15:59:59"]
    # And the step is in the dispute's history and its events, as every step is
    assert [h.trigger for h in pilot.orders.history("o-1") if h.entity_id == "d-1"] == [
        "open", "escalate"]
    assert dispute_events(pilot) == [
        ("orderpilot.dispute.opened", "inquiry", "opened",
         datetime(2026, 12, 10, 15, 59, 59, tzinfo=UTC), 7980),
        ("orderpilot.dispute.opened", "chargeback", "opened",
         datetime(2027, 1, 5, 15, 59, 59, tzinfo=UTC), 3990)]
    # And the console asks afresh: the chargeback is a case episode of its own
    case = open_case(pilot.context, DISPUTE_REVIEW, "d-1")
    assert (case.episode, case.due_at.isoformat()) == ("d-1", "2027-01-05T15:59:59+00:00")
    # When a late resend of the inquiry's loss arrives (another webhook id)
    late = send(http, "disputes/update", shopify_dispute(kind="inquiry", status="lost"), "wh-d3")
    # Then it is older news: the chargeback stays open, nothing booked
    assert late.json()["applied"] is False and "older news" in late.json()["note"], late.text
    assert pilot.disputes.get("d-1")["state"] == "opened"
    assert pilot.orders.get("o-1").refunded == 0
    # And the same chargeback news again changes nothing
    again = send(http, "disputes/update", shopify_dispute(
        status="needs_response", amount="39.90", evidence_due_by="2027-01-05T23:59:59+08:00"),
        "wh-d4")
    assert again.json()["applied"] is False, again.text
    # When the chargeback is lost, its own amount is booked
    lost = send(http, "disputes/update", shopify_dispute(status="lost", amount="39.90"), "wh-d5")
    assert lost.json()["dispute"]["state"] == "lost", lost.text
    assert pilot.orders.get("o-1").refunded == 3990


@pytest.mark.parametrize("outcome", ["lost", "accepted"])
def test_an_inquiry_shopify_closes_without_a_chargeback_ends_the_dispute_moving_no_money(
        storefront, outcome):
    pilot, http = storefront
    paid_order(http)
    send(http, "disputes/create", shopify_dispute(kind="inquiry"), "wh-d1")
    assert evidence_alerts(pilot) == ["2026-12-08 15:59:59"]
    assert open_case(pilot.context, DISPUTE_REVIEW, "d-1") is not None
    # When Shopify closes the inquiry against the merchant, no chargeback following
    closed = send(http, "disputes/update", shopify_dispute(kind="inquiry", status=outcome),
                  "wh-d2")
    # Then the dispute is over: closed, nothing booked, no alert left, no review waiting
    assert closed.status_code == 200 and closed.json()["applied"] is True, closed.text
    assert (closed.json()["dispute"]["state"], closed.json()["dispute"]["booked"]) == (
        "closed", 0)
    assert pilot.disputes.get("d-1")["state"] == "closed"
    assert pilot.orders.get("o-1").refunded == 0
    assert [kind for kind, _, _ in ledger(pilot)] == ["capture"]
    assert evidence_alerts(pilot) == []
    assert open_case(pilot.context, DISPUTE_REVIEW, "d-1") is None
    # and the same news again (another webhook id) moves nothing
    again = send(http, "disputes/update", shopify_dispute(kind="inquiry", status=outcome),
                 "wh-d3")
    assert again.json()["applied"] is False and "already closed" in again.json()["note"]


def test_a_case_refund_after_a_closed_inquiry_is_recorded_and_owed_in_the_admin(
        shop):  # noqa: F811
    pilot, http, _ = shop
    created = send(http, "orders/create", tea_order(), "wh-1")
    assert created.json()["order"]["state"] == "paid", created.text
    # The bank asked about the whole payment (¥149.70), then Shopify closed the inquiry
    send(http, "disputes/create", shopify_dispute(TEA, amount="149.70", kind="inquiry"),
         "wh-d1")
    send(http, "disputes/update", shopify_dispute(TEA, amount="149.70", kind="inquiry",
                                                  status="lost"), "wh-d2")
    # When a refund-only case on one tin is approved
    case = pilot.cases.open("o-1", kind="refund_only", lines=[{"line_no": 1, "quantity": 1}],
                            reason="茶叶受潮结块")
    pilot.cases.fire(case.id, "review", actor="system:refund-review")
    pilot.cases.approve(case.id, by="mei", reason="照片显示受潮")
    # Then its refund is recorded, owed in Shopify's admin: nothing of the payment is held
    assert operations(pilot) == [("refund", "pending", "shopify", 3990)]
    assert [(r["order_id"], r["owed"]) for r in pilot.payments.refunds_owed()] == [
        ("o-1", 3990)]


def _approved_tin_case(pilot: Any) -> Any:
    case = pilot.cases.open("o-1", kind="refund_only", lines=[{"line_no": 1, "quantity": 1}],
                            reason="茶叶受潮结块")
    pilot.cases.fire(case.id, "review", actor="system:refund-review")
    return pilot.cases.approve(case.id, by="mei", reason="照片显示受潮")


def test_a_case_refund_during_an_open_inquiry_is_recorded_and_held_once_a_chargeback(
        shop):  # noqa: F811
    pilot, http, _ = shop
    created = send(http, "orders/create", tea_order(), "wh-1")
    assert created.json()["order"]["state"] == "paid", created.text
    # Given the bank asking about the whole payment (¥149.70): an inquiry, Shopify took nothing
    send(http, "disputes/create", shopify_dispute(TEA, amount="149.70", kind="inquiry"),
         "wh-d1")
    # When a refund-only case on one tin is approved while the inquiry is open
    _approved_tin_case(pilot)
    # Then its refund is recorded, owed in Shopify's admin (before: refused, the inquiry's
    # ¥149.70 counted as held)
    assert operations(pilot) == [("refund", "pending", "shopify", 3990)]
    # When Shopify turns the inquiry into a chargeback of the rest (¥109.80)
    send(http, "disputes/update", shopify_dispute(TEA, amount="109.80"), "wh-d2")
    # Then the chargeback holds that money: the other tin's case refund is not recorded
    _approved_tin_case(pilot)
    assert operations(pilot) == [("refund", "pending", "shopify", 3990)]


def test_a_cancellation_refunded_later_during_an_open_inquiry_owes_everything_paid(
        shop):  # noqa: F811
    pilot, http, _ = shop
    created = send(http, "orders/create", tea_order(), "wh-1")
    assert created.json()["order"]["state"] == "paid", created.text
    send(http, "disputes/create", shopify_dispute(TEA, amount="149.70", kind="inquiry"),
         "wh-d1")
    # When the merchant cancels in Shopify leaving the refund for later, the inquiry open
    cancelled = send(http, "orders/cancelled", tea_order(
        cancelled_at="2026-11-20T10:00:00+08:00", cancel_reason="customer"), "wh-2")
    assert cancelled.json()["applied"] is True, cancelled.text
    # Then all of the ¥139.70 of goods is owed back: the inquiry took none of it (before: it
    # covered all of it, and nothing was listed as owed)
    [event] = events(pilot, "orderpilot.order.cancelled")
    assert (event["details"]["refund_later"], event["details"].get("disputed", 0)) == (
        13970, 0), event
    assert [(r["kind"], r["owed"]) for r in pilot.payments.refunds_owed()] == [
        ("refund_later", 13970)]


def test_a_closed_inquiry_shopify_turns_into_a_chargeback_opens_again(storefront):
    pilot, http = storefront
    paid_order(http)
    send(http, "disputes/create", shopify_dispute(kind="inquiry"), "wh-d1")
    send(http, "disputes/update", shopify_dispute(kind="inquiry", status="lost"), "wh-d2")
    assert settled_disputes(pilot) == []  # an inquiry: Shopify took no money, nor do we book
    # When, two days on, Shopify turns the same dispute into a chargeback, due on its own date
    pilot.clock.advance(days=2)
    charged = send(http, "disputes/update", shopify_dispute(
        status="needs_response", evidence_due_by="2027-01-05T23:59:59+08:00"), "wh-d3")
    # Then the dispute is open again, as the chargeback, its alert armed for the new date
    assert charged.json()["applied"] is True, charged.text
    assert "reopened" in charged.json()["note"]
    [dispute] = pilot.disputes.list()
    assert (dispute["state"], dispute["kind"], dispute["reason"], dispute["due_by"]) == (
        "opened", "chargeback", "fraudulent, network code 4837", "2027-01-05T15:59:59+00:00")
    assert evidence_alerts(pilot) == ["2027-01-03 15:59:59"]
    # and the settlement books the chargeback when it became one, not when the inquiry opened
    assert settled_disputes(pilot) == [(-7980, pilot.clock.now())]
    # a late resend of the inquiry's close (another webhook id) does not close the chargeback
    late = send(http, "disputes/update", shopify_dispute(kind="inquiry", status="lost"),
                "wh-d4")
    assert late.json()["applied"] is False, late.text
    assert pilot.disputes.get("d-1")["state"] == "opened"
    # and when the chargeback is lost, it is booked
    lost = send(http, "disputes/update", shopify_dispute(status="lost"), "wh-d5")
    assert lost.json()["dispute"]["state"] == "lost", lost.text
    assert pilot.orders.get("o-1").refunded == 7980
    assert ledger(pilot)[-1] == ("chargeback", 7980, str(DISPUTE))


def test_a_closed_inquiry_whose_chargeback_arrives_lost_books_it(storefront):
    pilot, http = storefront
    paid_order(http)
    send(http, "disputes/create", shopify_dispute(kind="inquiry"), "wh-d1")
    send(http, "disputes/update", shopify_dispute(kind="inquiry", status="lost"), "wh-d2")
    # the chargeback's needs_response never arrived: its loss says all
    lost = send(http, "disputes/update", shopify_dispute(status="lost"), "wh-d3")
    assert lost.json()["dispute"]["state"] == "lost", lost.text
    assert pilot.orders.get("o-1").refunded == 7980


def test_a_chargeback_under_a_new_dispute_id_after_a_closed_inquiry_is_a_dispute_of_its_own(
        storefront):
    pilot, http = storefront
    paid_order(http)
    send(http, "disputes/create", shopify_dispute(kind="inquiry"), "wh-d1")
    send(http, "disputes/update", shopify_dispute(kind="inquiry", status="lost"), "wh-d2")
    opened = send(http, "disputes/create", shopify_dispute(id=DISPUTE + 1), "wh-d3")
    assert opened.json()["applied"] is True, opened.text
    assert [(d["id"], d["state"], d["provider_ref"]) for d in pilot.disputes.list()] == [
        ("d-1", "closed", str(DISPUTE)), ("d-2", "opened", str(DISPUTE + 1))]
    assert evidence_alerts(pilot) == ["2026-12-08 15:59:59"]
    send(http, "disputes/update", shopify_dispute(id=DISPUTE + 1, status="lost"), "wh-d4")
    assert pilot.orders.get("o-1").refunded == 7980
    assert ledger(pilot)[-1] == ("chargeback", 7980, str(DISPUTE + 1))


@pytest.mark.parametrize("order_id", [42, None])
def test_a_dispute_on_an_order_not_placed_here_is_recorded_not_applied(storefront, order_id):
    pilot, http = storefront
    paid_order(http)
    answer = send(http, "disputes/create", shopify_dispute(order_id), "wh-d1")
    assert answer.status_code == 200, answer.text
    assert (answer.json()["applied"], "recorded, not applied" in answer.json()["note"]) == (
        False, True)
    assert pilot.disputes.list() == []
    assert send(http, "disputes/create", shopify_dispute(order_id), "wh-d1").headers.get(
        "Idempotent-Replay") == "true"


@pytest.mark.parametrize(("change", "field"), [
    ({"status": "pending"}, "status"),
    ({"type": "retrieval"}, "type"),
    ({"amount": "79.805"}, "amount"),
    ({"amount": "0.00"}, "amount"),
    ({"amount": "abc"}, "amount"),
    ({"id": None}, "id"),
    ({"evidence_due_by": "2026-12-10T23:59:59"}, "evidence_due_by"),  # no offset: ambiguous
    ({"currency": "USD"}, "currency"),  # the order is in CNY
])
def test_a_bad_dispute_is_refused_naming_the_field_and_nothing_is_written(
        storefront, change, field):
    pilot, http = storefront
    paid_order(http)
    before = row_counts(pilot)
    answer = send(http, "disputes/create", shopify_dispute(**change), "wh-bad")
    assert answer.status_code == 422, answer.text
    assert field in answer.json()["problems"], answer.json()
    assert row_counts(pilot) == before


def test_a_dispute_signed_with_another_secret_is_refused(storefront):
    pilot, http = storefront
    paid_order(http)
    before = row_counts(pilot)
    answer = send(http, "disputes/create", shopify_dispute(), "wh-d1", secret="not-the-secret")
    assert answer.status_code == 401
    assert row_counts(pilot) == before


def test_a_lost_shopify_chargeback_settles_the_case_refund_owed_in_the_admin(shop):  # noqa: F811
    pilot, http, _ = shop
    case_id = owed_case(pilot, http)
    # When the buyer's bank takes back all the goods (¥139.70) through Shopify Payments and
    # the merchant loses
    send(http, "disputes/create", shopify_dispute(TEA, amount="139.70"), "wh-d1")
    lost = send(http, "disputes/update", shopify_dispute(TEA, amount="139.70", status="lost"),
                "wh-d2")
    assert lost.json()["dispute"]["state"] == "lost", lost.text
    # Then the case's tin was paid back by the bank with the rest: the case's refund is no
    # longer owed in Shopify's admin, the order refunded in full once, the case refunded
    assert pilot.payments.refunds_owed() == []
    assert operations(pilot) == [("refund", "succeeded", "shopify", 3990)]
    assert (pilot.cases.get(case_id).state, pilot.orders.get("o-1").refunded) == (
        "refunded", 13970)
    assert ledger(pilot)[-1] == ("chargeback", 13970, str(DISPUTE))


def lose_through_shopify(pilot: Any, http: Any, amount: str) -> None:
    send(http, "disputes/create", shopify_dispute(TEA, amount=amount), "wh-d1")
    lost = send(http, "disputes/update", shopify_dispute(TEA, amount=amount, status="lost"),
                "wh-d2")
    assert lost.json()["dispute"]["state"] == "lost", lost.text


def lose_through_the_gateway(pilot: Any, http: Any, amount: str) -> None:
    minor = round(float(amount) * 100)
    for event_id, kind, extra in (("e-1", "dispute_opened", {"reason": "fraudulent"}),
                                  ("e-2", "dispute_closed", {"outcome": "lost"})):
        apply_money_event(pilot.context, MoneyEvent(
            "simulated", event_id, kind, "shopify:5", minor, "CNY", pilot.clock.now(),
            order_id="o-1", dispute_ref=str(DISPUTE), **extra))


@pytest.mark.parametrize("lose", [lose_through_shopify, lose_through_the_gateway])
def test_a_lost_chargeback_counts_what_the_admin_already_gave_the_case(shop, lose):  # noqa: F811
    pilot, http, _ = shop
    case_id = owed_case(pilot, http, tins=2)  # ¥79.80 owed in Shopify's admin
    # When the merchant refunds one of the case's two tins in Shopify's admin (¥39.90, held
    # for the case: its other tin still owed)
    one = send(http, "refunds/create", refund_of(TIN, "39.90"), "wh-2")
    assert one.json()["applied"] is True, one.text
    assert (pilot.cases.get(case_id).state, pilot.orders.get("o-1").refunded) == (
        "approved", 0)
    # And then the buyer's bank takes back ¥109.80 and the merchant loses: Shopify lets a
    # chargeback run past what partial refunds left — the merchant pays twice
    lose(pilot, http, "109.80")
    # Then the case is settled for its ¥79.80 — the admin's ¥39.90 and ¥39.90 of the
    # chargeback — nothing left owed in the admin; the chargeback's ¥59.90 beyond the case is
    # the order's own refund, the order refunded in full (¥139.70) and the ¥10.00 the bank
    # took past it a loss beyond the order. Money out (ledger ¥39.90 + ¥109.80) = the order's
    # refunds + the unbooked loss. (Before: the case settled as if the chargeback paid all of
    # it, the admin's ¥39.90 forgotten: the order refunded ¥109.80 of ¥139.70, nothing
    # unbooked — ¥39.90 gone from the ledger that no order or case showed.)
    case = pilot.cases.get(case_id)
    assert (case.state, case.refunded) == ("refunded", 7980)
    assert pilot.payments.refunds_owed() == []
    assert operations(pilot) == [("refund", "succeeded", "shopify", 7980)]
    [dispute] = pilot.disputes.list()
    assert (dispute["state"], dispute["booked"], dispute["unbooked"]) == ("lost", 9980, 1000)
    assert (pilot.orders.get("o-1").refunded, units_refunded(pilot)) == (13970, [2, 0])
    money_out = [(kind, amount) for kind, amount, _ in ledger(pilot)
                 if kind in ("refund", "chargeback")]
    assert money_out == [("refund", 3990), ("chargeback", 10980)]
    assert sum(a for _, a in money_out) == pilot.orders.get("o-1").refunded + 1000


def test_a_case_refund_under_a_partial_chargeback_is_refused_until_it_is_won(
        shop):  # noqa: F811
    pilot, http, _ = shop
    created = send(http, "orders/create", tea_order(), "wh-1")
    assert created.json()["order"]["state"] == "paid", created.text
    # Given the bank charging back one tin's worth (¥39.90) of the ¥149.70 payment
    send(http, "disputes/create", shopify_dispute(TEA, amount="39.90"), "wh-d1")
    before = row_counts(pilot)
    # When a refund-only case on the other tin is approved (¥39.90: well inside what the
    # chargeback leaves)
    approved = _approved_tin_case(pilot)
    # Then no refund is recorded to be made in Shopify's admin, which refuses refunds of a
    # charged-back payment; the approval says why (before: recorded and listed as owed)
    assert (approved.refund.status, approved.refund.refund) == ("refused", None)
    assert "has an open chargeback (d-1, disputed 3990)" in approved.refund.error
    assert operations(pilot) == []
    assert pilot.payments.refunds_owed() == []
    assert row_counts(pilot)["payment_operations"] == before["payment_operations"]
    # When the shop wins the dispute, the case refund is owed in the admin again
    send(http, "disputes/update", shopify_dispute(TEA, amount="39.90", status="won"), "wh-d2")
    assert pilot.cases.refund(approved.id, by="mei").status == "pending"
    assert operations(pilot) == [("refund", "pending", "shopify", 3990)]
