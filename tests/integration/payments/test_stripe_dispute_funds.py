"""Stripe's charge.dispute.funds_withdrawn and charge.dispute.funds_reinstated: Stripe took a
chargeback's money, or gave it back. Each carries the whole Dispute, so each is read as the
other dispute events are — "the dispute is now this" — and our books move when the dispute's
kind and state say (a chargeback's money out when it became one, back when won: the settlement
reconciliation's dispute lines). Once the created / updated / closed events told it, they
change nothing; when one of those was lost, they bring the dispute to where Stripe has it.
Real server, deliveries checked by the stripe SDK's own signature check, both stores."""

from __future__ import annotations

from tests.fakes import stripe_events as se
from tests.integration.payments.test_stripe_webhooks import (  # noqa: F401 - fixture
    dispute_entries,
    pilot_dispute,
    shop,
    stripe_disputes,
)


def test_funds_withdrawn_for_a_chargeback_whose_creation_was_lost_opens_it_once(shop,  # noqa: F811
                                                                                 clock):
    # Given a paid order (¥99.98) the buyer's bank charges back: Stripe withdraws the money,
    # and its charge.dispute.created never reaches us
    order_id, pi = shop.paid_order()
    chargeback = shop.stripe.open_dispute(pi, reason="fraudulent")
    # When charge.dispute.funds_withdrawn arrives
    withdrawn = shop.deliver("charge.dispute.funds_withdrawn", se.dispute(chargeback))
    # Then the chargeback is opened on the order and our books take its money out, as Stripe's
    # balance does (before: 200 'event type not used by orderpilot', nothing booked)
    assert withdrawn.status_code == 200 and withdrawn.json()["applied"] is True, withdrawn.text
    assert "d-1 opened" in withdrawn.json()["note"]
    assert pilot_dispute(shop)[:4] == ("opened", "chargeback", "fraudulent", 9998)
    assert dispute_entries(shop) == [(-9998, clock.now())]
    assert stripe_disputes(shop) == [-9998]
    # When the created event comes late, it is the dispute already open: nothing moves
    late = shop.deliver("charge.dispute.created", se.dispute(chargeback))
    assert late.status_code == 200 and late.json()["applied"] is False, late.text
    assert dispute_entries(shop) == [(-9998, clock.now())]


def test_funds_withdrawn_after_the_escalation_was_told_changes_nothing(shop, clock):  # noqa: F811
    # Given a Stripe inquiry (no money taken) the bank turns into a chargeback of ¥50.00
    _, pi = shop.paid_order()
    inquiry = shop.stripe.open_inquiry(pi)
    assert shop.deliver("charge.dispute.created", se.dispute(inquiry)).status_code == 200
    clock.advance(days=2)
    escalated = shop.stripe.escalate(inquiry["id"], amount=5000, reason="product_not_received")
    # When the funds_withdrawn that comes with the escalation arrives first
    withdrawn = shop.deliver("charge.dispute.funds_withdrawn", se.dispute(escalated))
    # Then it is the escalation: the chargeback, booked when Stripe took the money
    assert withdrawn.json()["applied"] is True, withdrawn.text
    assert "d-1 escalated as a chargeback" in withdrawn.json()["note"]
    assert pilot_dispute(shop)[:4] == ("opened", "chargeback", "product_not_received", 5000)
    assert dispute_entries(shop) == [(-5000, clock.now())] and stripe_disputes(shop) == [-5000]
    # And the charge.dispute.updated that follows tells nothing new
    updated = shop.deliver("charge.dispute.updated", se.dispute(escalated))
    assert updated.status_code == 200 and updated.json()["applied"] is False, updated.text
    assert dispute_entries(shop) == [(-5000, clock.now())]


def test_funds_reinstated_for_a_chargeback_won_books_the_money_back_once(shop,  # noqa: F811
                                                                        clock):
    order_id, pi = shop.paid_order()
    chargeback = shop.stripe.open_dispute(pi, reason="product_not_received")
    assert shop.deliver("charge.dispute.created", se.dispute(chargeback)).status_code == 200
    opened_at = clock.now()
    # When the bank decides for the shop and Stripe gives the money back, its
    # charge.dispute.closed lost: funds_reinstated arrives alone
    clock.advance(days=30)
    won = shop.stripe.close_dispute(chargeback["id"], "won")
    reinstated = shop.deliver("charge.dispute.funds_reinstated", se.dispute(won))
    # Then the dispute is won and our books take the money back, as Stripe's balance does
    assert reinstated.json()["applied"] is True and "d-1 won" in reinstated.json()["note"], \
        reinstated.text
    assert dispute_entries(shop) == [(-9998, opened_at), (9998, clock.now())]
    assert stripe_disputes(shop) == [-9998, 9998]
    # When charge.dispute.closed comes after all: already won, nothing booked twice
    closed = shop.deliver("charge.dispute.closed", se.dispute(won))
    assert closed.json()["applied"] is False and "already won" in closed.json()["note"], \
        closed.text
    assert dispute_entries(shop) == [(-9998, opened_at), (9998, clock.now())]
    assert shop.pilot.orders.get(order_id).refunded == 0
