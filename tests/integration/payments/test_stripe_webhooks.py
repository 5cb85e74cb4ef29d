"""Stripe end to end: a real uvicorn server verifies deliveries with the stripe SDK's own
signature check; the money moves through the stripe SDK against the local Stripe stand-in.
Both stores."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from integrations.db.money_store import MoneyStore
from integrations.db.settlement_store import SettlementStore
from integrations.payments.settings import PaymentSettings
from integrations.service import money, money_refunds
from integrations.service.checkout import open_checkout
from integrations.service.money_sweep import sweep_money
from orderpilot import OrderPilot
from statemachine.errors import Contention, GuardRejected
from statemachine.risk_port import approve_everything
from tests.factories import stock
from tests.fakes import stripe_events as se
from tests.fakes.http import patient_client
from tests.fakes.stripe_api import FakeStripe
from tests.integration.integ.server import row_counts, running_server
from tests.integration.payments.conftest import (
    STRIPE_KEY,
    STRIPE_WEBHOOK_SECRET,
    stripe_gateway_for,
)

ADDRESS = {"street": "文三路18号", "city": "杭州市", "district": "西湖区",
           "recipient": "李雷", "phone": "+8613800138000"}
SETTINGS = PaymentSettings(provider="stripe", stripe_api_key=STRIPE_KEY,
                           stripe_webhook_secret=STRIPE_WEBHOOK_SECRET,
                           webhook_tolerance_seconds=300)


class Shop:
    """A pilot on Stripe (the local stand-in), served over HTTP, and Stripe's side of it."""

    def __init__(self, pilot: OrderPilot, stripe: FakeStripe, url: str):
        self.pilot, self.stripe, self.http = pilot, stripe, patient_client(url)

    def deliver(self, kind: str, obj: dict, *, secret: str = STRIPE_WEBHOOK_SECRET,
                at: float | None = None, body: bytes | None = None) -> httpx.Response:
        body = body or se.event(kind, obj)
        return self.http.post("/hooks/stripe", content=body, headers={
            "stripe-signature": se.signature(body, secret, at),
            "content-type": "application/json"})

    def order_awaiting_payment(self, quantity: int = 2, price: int = 4999) -> tuple[str, str]:
        stock(self.pilot, quantity=10)
        order = self.pilot.orders.place(
            buyer_id="b-hz-1", lines=[{"sku": "SKU-1", "quantity": quantity,
                                        "unit_price": price}],
            shipping_address=ADDRESS, phone="+8613800138000", currency="CNY")
        checkout = open_checkout(self.pilot.context, int(order.id[2:]))
        return order.id, checkout.payment_ref

    def paid_order(self) -> tuple[str, str]:
        order_id, pi = self.order_awaiting_payment()
        self.stripe.authorise(pi)
        response = self.deliver("payment_intent.amount_capturable_updated",
                                se.intent(self.stripe.intents[pi]))
        assert response.status_code == 200, response.text
        return order_id, pi


@pytest.fixture
def shop(any_url, clock) -> Iterator[Shop]:
    with FakeStripe() as stripe:
        gateway = stripe_gateway_for(stripe)
        pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                           gateway=gateway)
        with running_server(pilot, payments=SETTINGS) as url:
            shop = Shop(pilot, stripe, url)
            yield shop
            shop.http.close()
        gateway.close()
        pilot.close()


def test_an_authorised_payment_is_captured_with_our_key_and_pays_the_order(shop):
    # Given an order whose PaymentIntent (manual capture) the buyer has authorised
    order_id, pi = shop.order_awaiting_payment()
    shop.stripe.authorise(pi)
    # When Stripe reports the authorisation
    response = shop.deliver("payment_intent.amount_capturable_updated",
                            se.intent(shop.stripe.intents[pi]))
    # Then orderpilot captured it at Stripe with a key derived from the order, and is paid
    assert response.status_code == 200 and response.json()["applied"] is True
    [capture] = shop.stripe.calls("POST", f"/v1/payment_intents/{pi}/capture")
    assert capture.headers["idempotency-key"] == f"capture:{order_id}"
    assert shop.stripe.intents[pi]["status"] == "succeeded"
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.paid, order.payment_ref) == ("paid", 9998, pi)
    # And Stripe's own succeeded event afterwards changes nothing
    again = shop.deliver("payment_intent.succeeded", se.intent(shop.stripe.intents[pi]))
    assert again.status_code == 200 and again.json()["applied"] is False
    assert [h.trigger for h in shop.pilot.orders.history(order_id)].count("pay") == 1


def test_an_authorisation_whose_capture_collides_is_answered_200_and_the_sweep_settles_it(
        shop, monkeypatch):
    # Given an authorised PaymentIntent, and our store refusing to settle the capture once
    # (a collision with another writer, past the retries of the settling transaction)
    order_id, pi = shop.order_awaiting_payment()
    shop.stripe.authorise(pi)
    real, collisions = money.settle, [Contention("settling the capture", 6, "deadlock")]

    def settle(ctx, key, result, now):
        if collisions:
            raise collisions.pop()
        return real(ctx, key, result, now)

    monkeypatch.setattr(money, "settle", settle)
    # When Stripe reports the authorisation
    response = shop.deliver("payment_intent.amount_capturable_updated",
                            se.intent(shop.stripe.intents[pi]))
    # Then the booked event is answered 200 (on main: 503, and Stripe resent an event whose
    # replay made no call), the capture left pending for the money sweep
    assert response.status_code == 200, response.text
    assert response.json()["applied"] is True and collisions == []
    assert shop.pilot.orders.get(order_id).state == "payment_pending"
    # And the sweep settles it with the same key: Stripe captured once, the order paid
    sweep_money(shop.pilot.context, shop.pilot.clock.now() + timedelta(minutes=5))
    assert len({c.headers["idempotency-key"] for c in shop.stripe.calls(
        "POST", f"/v1/payment_intents/{pi}/capture")}) == 1
    assert shop.stripe.intents[pi]["status"] == "succeeded"
    assert shop.pilot.orders.get(order_id).state == "paid"


def test_forged_stale_and_replayed_deliveries_change_nothing(shop):
    order_id, pi = shop.order_awaiting_payment()
    shop.stripe.authorise(pi)
    body = se.event("payment_intent.amount_capturable_updated",
                    se.intent(shop.stripe.intents[pi]))
    before = row_counts(shop.pilot)
    forged = shop.deliver("x", {}, body=body, secret="whsec_not_the_endpoint_secret")
    stale = shop.deliver("x", {}, body=body, at=time.time() - 400)
    tampered = shop.http.post("/hooks/stripe", content=body.replace(b"9998", b"1"),
                              headers={"stripe-signature": se.signature(body,
                                                                        STRIPE_WEBHOOK_SECRET)})
    assert [r.status_code for r in (forged, stale, tampered)] == [401, 401, 401]
    assert "tolerance" in stale.json()["message"]
    assert row_counts(shop.pilot) == before and shop.stripe.calls("POST", "/v1/payment_int"
                                                                          "ents/pi") == []
    first = shop.deliver("x", {}, body=body)
    replay = shop.deliver("x", {}, body=body)  # Stripe retries: same event, new signature
    assert first.status_code == replay.status_code == 200
    assert replay.headers["idempotent-replay"] == "true"
    assert len(shop.stripe.calls("POST", f"/v1/payment_intents/{pi}/capture")) == 1
    assert shop.pilot.orders.get(order_id).state == "paid"


def test_a_refund_made_in_the_stripe_dashboard_is_booked_once_beside_our_own(shop):
    order_id, pi = shop.paid_order()
    charge_id = shop.stripe.intents[pi]["latest_charge"]
    # Given our own refund through the provider
    ours = money_refunds.refund_order(shop.pilot.context, int(order_id[2:]), 300,
                                      "price adjustment", "cs:wangfang")
    assert ours.status == "succeeded" and shop.pilot.orders.get(order_id).refunded == 300
    # When finance refunds 500 more in Stripe's dashboard and Stripe reports the charge
    shop.stripe.charges[charge_id]["amount_refunded"] += 500
    refunded = se.charge(charge_id, shop.stripe.intents[pi], refunded=800)
    response = shop.deliver("charge.refunded", refunded)
    again = shop.deliver("charge.refunded", refunded)  # a later event, same total
    # Then only the dashboard's 500 is booked on top of ours, once
    assert response.json()["applied"] is True and again.json()["applied"] is False
    assert shop.pilot.orders.get(order_id).refunded == 800


def test_a_chargeback_lost_by_webhook_books_the_money_and_lowers_the_credit_score(shop):
    order_id, pi = shop.paid_order()
    credit_before = shop.pilot.risk.credit("b-hz-1")
    dispute = shop.stripe.open_dispute(pi, reason="fraudulent")
    opened = shop.deliver("charge.dispute.created", se.dispute(dispute))
    assert opened.status_code == 200 and "d-1 opened" in opened.json()["note"]
    # While the dispute is open the provider holds the money: no refund may be recorded
    with pytest.raises(GuardRejected, match="disputed 9998"):
        money_refunds.refund_order(shop.pilot.context, int(order_id[2:]), 100, "goodwill",
                                   "cs:wangfang")
    assert shop.stripe.calls("POST", "/v1/refunds") == []
    # When the bank decides against the shop
    shop.stripe.close_dispute(dispute["id"], "lost")
    closed = shop.deliver("charge.dispute.closed", se.dispute(shop.stripe.disputes[
        dispute["id"]]))
    # Then the order books the chargeback and the buyer loses credit, as by the Python API
    assert closed.status_code == 200
    order = shop.pilot.orders.get(order_id)
    assert (order.paid, order.refunded) == (9998, 9998)
    assert shop.pilot.risk.credit("b-hz-1") == credit_before - 30
    assert [h.trigger for h in shop.pilot.orders.history(order_id)][-2:] == ["lose", "refund"]


@pytest.mark.parametrize(("currency", "captured"), [("cny", 100), ("usd", 9998)])
def test_money_that_is_not_the_order_total_in_its_currency_is_refunded_not_paid(
        shop, currency, captured):
    # Given an order of ¥99.98 waiting for its payment, whose intent was captured at Stripe
    # for another amount (a partial capture in the dashboard), or in dollars
    order_id, pi = shop.order_awaiting_payment()
    shop.stripe.intents[pi]["currency"] = currency
    shop.stripe.authorise(pi)
    shop.stripe.handle("POST", f"/v1/payment_intents/{pi}/capture",
                       {"amount_to_capture": str(captured)}, {"authorization": "Bearer sk_t"})
    # When Stripe reports it (and again)
    succeeded = se.event("payment_intent.succeeded", se.intent(shop.stripe.intents[pi]))
    answers = [shop.deliver("payment_intent.succeeded", {}, body=succeeded) for _ in range(2)]
    # Then it is acknowledged (not refused while Stripe retries for days), the order is not
    # paid with it, and the money goes back to the buyer once
    assert [r.status_code for r in answers] == [200, 200]
    after = shop.pilot.orders.get(order_id)
    assert (after.state, after.paid) == ("awaiting_payment", 0)
    charge = shop.stripe.charges[shop.stripe.intents[pi]["latest_charge"]]
    assert charge["amount_refunded"] == captured
    # in the currency Stripe took it in: the ledger, our refund operation and the event for
    # staff (before: dollars booked as yuan, US$99.98 shown as ¥99.98)
    paid_in = currency.upper()
    key = f"late-refund:stripe:{pi}"
    assert ledger_of(shop, order_id) == [("late_capture", captured, paid_in),
                                         ("refund", captured, paid_in)]
    assert operation_of(shop, key) == ("refund", captured, paid_in, "succeeded")


def ledger_of(shop: Shop, order_id: str) -> list[tuple[str, int, str]]:
    """The order's ledger rows: (kind, amount, currency)."""
    with shop.pilot.context.tx(readonly=True) as tx:
        return [(k, a, c) for k, a, c in tx.store.sql.all(
            "SELECT kind, amount, currency FROM payment_records WHERE order_id = :o "
            "ORDER BY id", {"o": int(order_id[2:])})]


def operation_of(shop: Shop, key: str) -> tuple[str, int, str, str]:
    with shop.pilot.context.tx(readonly=True) as tx:
        op = MoneyStore(tx.store.sql).by_key(key)
    return op.kind.value, op.amount, op.currency, op.status.value


def dispute_entries(shop: Shop) -> list[tuple[int, datetime]]:
    """Our side of the settlement: the dispute movements we booked with Stripe, and when."""
    with shop.pilot.context.tx(readonly=True) as tx:
        entries = SettlementStore(tx.store.sql).entries(
            "stripe", datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    return [(e.amount, e.at) for e in entries if e.kind == "dispute"]


def stripe_disputes(shop: Shop) -> list[int]:
    """Stripe's side: the dispute lines of its balance (what it withdrew, what it gave back)."""
    return [t["amount"] for t in shop.stripe.balance
            if t["reporting_category"].startswith("dispute")]


def evidence_alerts(shop: Shop) -> list[datetime]:
    with shop.pilot.context.tx(readonly=True) as tx:
        return [tx.store.sql.when(r[0]) for r in tx.store.sql.all(
            "SELECT due_at FROM deadlines WHERE kind = 'dispute_evidence'", {})]


def test_an_inquiry_stripe_closes_without_a_chargeback_ends_closed_not_won(shop):
    # Given a paid order and a Stripe inquiry on its charge (an early warning: the bank asks
    # before charging back, Stripe takes no money)
    order_id, pi = shop.paid_order()
    credit_before = shop.pilot.risk.credit("b-hz-1")
    inquiry = shop.stripe.open_inquiry(pi, reason="fraudulent")
    opened = shop.deliver("charge.dispute.created", se.dispute(inquiry))
    assert opened.status_code == 200 and "d-1 opened" in opened.json()["note"]
    # When Stripe closes the inquiry without it becoming a chargeback
    closed = shop.deliver("charge.dispute.closed", se.dispute(inquiry, status="warning_closed"))
    # Then the dispute is closed — not won: the shop won nothing, nothing was decided
    assert closed.status_code == 200 and closed.json()["applied"] is True
    assert "d-1 closed" in closed.json()["note"]
    assert shop.pilot.disputes.get("d-1")["state"] == "closed"
    # And nothing is booked, no credit moves, and the money is no longer held: a refund fits
    order = shop.pilot.orders.get(order_id)
    assert (order.paid, order.refunded) == (9998, 0)
    assert "lose" not in [h.trigger for h in shop.pilot.orders.history(order_id)]
    assert shop.pilot.risk.credit("b-hz-1") == credit_before
    with shop.pilot.context.tx(readonly=True) as tx:
        assert MoneyStore(tx.store.sql).reserved(int(order_id[2:])).disputed == 0
    # And the reconciliation books nothing for it: Stripe took no money for an inquiry
    assert dispute_entries(shop) == [] and stripe_disputes(shop) == []
    # And a real win is still a win
    _, pi2 = shop.paid_order()
    chargeback = shop.stripe.open_dispute(pi2, reason="product_not_received")
    shop.deliver("charge.dispute.created", se.dispute(chargeback))
    shop.stripe.close_dispute(chargeback["id"], "won")
    won = shop.deliver("charge.dispute.closed",
                       se.dispute(shop.stripe.disputes[chargeback["id"]]))
    assert won.status_code == 200 and "d-2 won" in won.json()["note"]


def test_a_stripe_inquiry_escalated_to_a_chargeback_is_the_chargeback_booked_when_it_became_one(
        shop, clock):
    # Given a paid order and a Stripe inquiry on its charge: Stripe took no money
    order_id, pi = shop.paid_order()
    inquiry = shop.stripe.open_inquiry(pi, reason="fraudulent", due_in_days=7)
    opened = shop.deliver("charge.dispute.created", se.dispute(inquiry))
    assert opened.status_code == 200 and "d-1 opened" in opened.json()["note"], opened.text
    assert pilot_dispute(shop)[:2] == ("opened", "inquiry")
    assert dispute_entries(shop) == [] and stripe_disputes(shop) == []
    # When, three days on, the bank turns it into a chargeback for ¥50.00, due in three weeks
    clock.advance(days=3)
    escalated = shop.stripe.escalate(inquiry["id"], amount=5000, reason="product_not_received")
    updated = shop.deliver("charge.dispute.updated", se.dispute(escalated))
    # Then the dispute is that chargeback: reason, amount, due date, unanswered again
    assert updated.status_code == 200 and updated.json()["applied"] is True, updated.text
    assert "d-1 escalated as a chargeback" in updated.json()["note"]
    due = datetime.fromtimestamp(escalated["evidence_details"]["due_by"], UTC)
    assert pilot_dispute(shop) == ("opened", "chargeback", "product_not_received", 5000,
                                   due.isoformat())
    # And its evidence alert is the chargeback's (48 h before), the inquiry's gone
    assert evidence_alerts(shop) == [due - timedelta(hours=48)]
    assert [h.trigger for h in shop.pilot.orders.history(order_id)
            if h.entity_id == "d-1"] == ["open", "escalate"]
    # And our books take the money out when Stripe did, for what it withdrew
    assert dispute_entries(shop) == [(-5000, clock.now())]
    assert stripe_disputes(shop) == [-5000]
    # When a late delivery of the inquiry comes in (Stripe's retries are not in order)
    late = shop.deliver("charge.dispute.updated",
                        se.dispute(inquiry, status="warning_under_review"))
    # Then it is older news: recorded, not applied
    assert late.status_code == 200 and late.json()["applied"] is False, late.text
    assert "older news" in late.json()["note"]
    # When the bank decides against the shop, the chargeback's own amount is booked
    shop.stripe.close_dispute(inquiry["id"], "lost")
    lost = shop.deliver("charge.dispute.closed",
                        se.dispute(shop.stripe.disputes[inquiry["id"]]))
    assert lost.status_code == 200 and "d-1 lost" in lost.json()["note"], lost.text
    order = shop.pilot.orders.get(order_id)
    assert (order.paid, order.refunded) == (9998, 5000)


def test_a_refund_during_a_stripe_inquiry_goes_through_and_once_it_is_a_chargeback_is_held(
        shop):
    # Given a paid order (¥99.98) and a Stripe inquiry on its charge: Stripe took no money
    order_id, pi = shop.paid_order()
    inquiry = shop.stripe.open_inquiry(pi, reason="fraudulent")
    assert shop.deliver("charge.dispute.created", se.dispute(inquiry)).status_code == 200
    assert pilot_dispute(shop)[:2] == ("opened", "inquiry")
    # When customer service refunds ¥3.00 of it while the inquiry is open
    made = money_refunds.refund_order(shop.pilot.context, int(order_id[2:]), 300, "goodwill",
                                      "cs:wangfang")
    # Then Stripe makes it (a charge under inquiry may be refunded) and the order books it
    # (before: refused, 'disputed 9998', as if the inquiry held the money)
    assert made.status == "succeeded"
    assert len(shop.stripe.calls("POST", "/v1/refunds")) == 1
    assert shop.pilot.orders.get(order_id).refunded == 300
    # When the bank turns the inquiry into a chargeback of the rest (¥96.98)
    escalated = shop.stripe.escalate(inquiry["id"], amount=9698, reason="product_not_received")
    assert shop.deliver("charge.dispute.updated", se.dispute(escalated)).status_code == 200
    # Then Stripe holds that money: another refund is refused before Stripe is asked
    with pytest.raises(GuardRejected, match="disputed 9698"):
        money_refunds.refund_order(shop.pilot.context, int(order_id[2:]), 100, "goodwill",
                                   "cs:wangfang")
    assert len(shop.stripe.calls("POST", "/v1/refunds")) == 1


def test_a_stripe_dispute_status_no_table_knows_is_refused_and_writes_nothing(shop):
    _, pi = shop.paid_order()
    inquiry = shop.stripe.open_inquiry(pi)
    before = row_counts(shop.pilot)
    answer = shop.deliver("charge.dispute.updated", se.dispute(inquiry, status="in_limbo"))
    assert answer.status_code == 422 and "status" in answer.text, answer.text
    assert row_counts(shop.pilot) == before


def pilot_dispute(shop: Shop) -> tuple:
    d = shop.pilot.disputes.get("d-1")
    return d["state"], d["kind"], d["reason"], d["amount"], d["due_by"]
