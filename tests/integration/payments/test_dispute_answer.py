"""Answering a chargeback on Stripe (the SDK against the local stand-in): the evidence pack
mapped onto Stripe's fields, submitted once a person confirms it; or the dispute conceded."""

from __future__ import annotations

import pytest

from orderpilot.api_integrations import add_note
from statemachine.errors import GuardRejected
from tests.fakes import stripe_events as se
from tests.integration.payments.test_stripe_webhooks import shop  # noqa: F401  (fixture)


def disputed_shipped_order(shop):  # noqa: F811
    order_id, pi = shop.paid_order()
    for trigger in ("start_picking", "pack"):
        shop.pilot.orders.fire(order_id, trigger)
    shop.pilot.orders.fire(order_id, "ship", parcels=[{"carrier": "SF", "tracking_no":
                                                       "SF1234567890"}])
    add_note(shop.pilot, order_id, "买家确认收到货物，称包装完好", by="cs:wangfang", kind="message")
    dispute = shop.stripe.open_dispute(pi, reason="product_not_received")
    assert shop.deliver("charge.dispute.created", se.dispute(dispute)).status_code == 200
    return order_id, dispute["id"]


def test_evidence_from_the_pack_is_submitted_once_a_person_confirms_it(shop):  # noqa: F811
    order_id, stripe_dispute = disputed_shipped_order(shop)
    [opened] = shop.pilot.disputes.list()
    # When finance prepares the answer from the order's evidence pack
    prepared = shop.pilot.disputes.prepare(opened["id"], by="finance:li",
                                           refund_policy="7 天无理由退货")
    # Then Stripe's fields carry the carrier, tracking number, date and the conversation
    evidence = prepared["evidence"]
    assert (evidence["shipping_carrier"], evidence["shipping_tracking_number"]) == (
        "SF", "SF1234567890")
    assert evidence["shipping_date"] == shop.pilot.clock.now().date().isoformat()
    assert "买家确认收到货物" in evidence["customer_communication"]
    assert evidence["refund_policy"] == "7 天无理由退货" and order_id in \
        evidence["uncategorized_text"]
    # And the system cannot submit it on its own
    with pytest.raises(GuardRejected, match="a person must confirm"):
        shop.pilot.disputes.submit(opened["id"], by="system:auto")
    assert shop.stripe.calls("POST", f"/v1/disputes/{stripe_dispute}") == []
    # When a person submits it
    submitted = shop.pilot.disputes.submit(opened["id"], by="finance:li")
    # Then Stripe holds the evidence, sent once under a key of ours, and the dispute waits
    [call] = shop.stripe.calls("POST", f"/v1/disputes/{stripe_dispute}")
    assert call.headers["idempotency-key"] == f"evidence:{opened['id']}"
    at_stripe = shop.stripe.disputes[stripe_dispute]
    assert at_stripe["status"] == "under_review"
    assert at_stripe["evidence"]["shipping_tracking_number"] == "SF1234567890"
    assert submitted["state"] == "submitted"
    with pytest.raises(GuardRejected, match="not from submitted"):
        shop.pilot.disputes.submit(opened["id"], by="finance:li")


def test_a_conceded_dispute_books_the_chargeback(shop):  # noqa: F811
    order_id, stripe_dispute = disputed_shipped_order(shop)
    [opened] = shop.pilot.disputes.list()
    accepted = shop.pilot.disputes.accept(opened["id"], by="finance:li",
                                          reason="包裹确已丢失，认可买家")
    assert accepted["state"] == "accepted" and accepted["booked"] == 9998
    assert shop.stripe.disputes[stripe_dispute]["status"] == "lost"
    assert shop.pilot.orders.get(order_id).refunded == 9998


def test_the_shops_refund_policy_fills_the_answer_when_none_is_given(shop):  # noqa: F811
    disputed_shipped_order(shop)
    [opened] = shop.pilot.disputes.list()
    ctx = shop.pilot.context
    ctx.settings = ctx.settings.model_copy(update={"refund_policy_text": "签收后7天无理由退货"})
    prepared = shop.pilot.disputes.prepare(opened["id"], by="finance:li")
    assert prepared["evidence"]["refund_policy"] == "签收后7天无理由退货"


def test_the_chargeback_an_answered_inquiry_became_is_answered_under_its_own_key(
        shop):  # noqa: F811
    # Given a Stripe inquiry on a shipped order, answered with evidence
    order_id, pi = shop.paid_order()
    for trigger in ("start_picking", "pack"):
        shop.pilot.orders.fire(order_id, trigger)
    shop.pilot.orders.fire(order_id, "ship", parcels=[{"carrier": "SF", "tracking_no":
                                                       "SF1234567890"}])
    inquiry = shop.stripe.open_inquiry(pi, reason="fraudulent")
    assert shop.deliver("charge.dispute.created", se.dispute(inquiry)).status_code == 200
    shop.pilot.disputes.prepare("d-1", by="finance:li", refund_policy="7 天无理由退货")
    shop.pilot.disputes.submit("d-1", by="finance:li")
    # When the bank escalates it to a chargeback: unanswered again, answered anew
    escalated = shop.stripe.escalate(inquiry["id"], reason="product_not_received")
    assert shop.deliver("charge.dispute.updated", se.dispute(escalated)).status_code == 200
    assert shop.pilot.disputes.get("d-1")["state"] == "opened"
    shop.pilot.disputes.prepare("d-1", by="finance:li", refund_policy="签收后7天无理由退货")
    submitted = shop.pilot.disputes.submit("d-1", by="finance:li")
    # Then Stripe holds the chargeback's answer, sent under a key of its own, not refused
    # (a reused key with other parameters) nor replayed as the inquiry's answer
    first, second = shop.stripe.calls("POST", f"/v1/disputes/{inquiry['id']}")
    assert first.headers["idempotency-key"] == "evidence:d-1"
    assert second.headers["idempotency-key"] == "evidence:d-1:escalated-1"
    assert second.answered == 200
    assert shop.stripe.disputes[inquiry["id"]]["evidence"]["refund_policy"] == "签收后7天无理由退货"
    assert submitted["state"] == "submitted"
