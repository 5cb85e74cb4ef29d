"""A chargeback as a console case, on both stores: open until answered or past its due date,
its evidence shown masked, the person's answer sent once — or not at all when someone else
answered first or the due date passed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from integrations.console import casefiles, decisions
from integrations.console.casework import DISPUTE_REVIEW, open_case, open_cases
from integrations.console.jobs import Ports
from orderpilot import OrderPilot
from statemachine.risk_port import approve_everything
from tests.integration.console.disputes import CountingGateway, disputed_order


@pytest.fixture
def shop(any_url: str, clock: Any):
    gateway = CountingGateway(now=clock.now)
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything, gateway=gateway)
    yield pilot, gateway
    pilot.close()


def ports_of(gateway: CountingGateway) -> Ports:
    return Ports(gateway, carrier=lambda *_: None, notify=lambda _m: None,  # type: ignore
                 retry_delays=())


def answer(decision: str, note: str = "物流签收记录齐全", extra: str = "") -> dict[str, str]:
    return {"decision": decision, "note": note, "reviewer": "李娜", "extra_text": extra}


def test_an_opened_dispute_is_a_case_until_its_evidence_due_date(shop):
    pilot, gateway = shop
    # Given a dispute whose evidence is due in 7 days
    order_id, dispute_id, _ = disputed_order(pilot, gateway)
    # Then it waits for a person, due at the provider's date
    [case] = [c for c in open_cases(pilot.context) if c.kind == DISPUTE_REVIEW]
    assert (case.entity, case.episode, case.order_id, case.amount) == (
        dispute_id, dispute_id, order_id, 29_900)
    assert case.due_at == pilot.clock.now() + timedelta(days=7)
    # When the due date passes unanswered, it is no longer a case (nothing can be sent)
    pilot.clock.advance(days=7, seconds=1)
    assert open_case(pilot.context, DISPUTE_REVIEW, dispute_id) is None
    assert "nothing was submitted" in decisions.why_dispute_left(pilot.context, dispute_id)


def test_the_form_shows_the_mapped_evidence_with_personal_data_masked(shop):
    pilot, gateway = shop
    _, dispute_id, _ = disputed_order(pilot, gateway)
    # When the case is prepared for a person
    decisions.prepare_dispute(pilot.context, dispute_id)
    case = open_case(pilot.context, DISPUTE_REVIEW, dispute_id)
    text = casefiles.dispute_description(pilot.context, case, pilot.clock.now())
    # Then the fields the provider gets are listed, the buyer's name, street and phone masked
    assert pilot.disputes.get(dispute_id)["state"] == "evidence_due"
    assert "| shipping_tracking_number | SF1234567890 |" in text
    assert "来电确认收到龙井茶" in text and "¥299.00" in text and "Decide by" in text
    # and say what the bank did: a chargeback, the money held (the dispute's kind)
    assert text.startswith("# Dispute (chargeback) · ") and "reversed the payment" in text
    assert not any(pii in text for pii in ("张伟", "文三路", "13987654321"))
    # (the provider's copy is whole: the bank needs the address)
    assert "文三路 18 号" in pilot.disputes.get(dispute_id)["evidence"]["shipping_address"]
    # And preparing again (a re-asked form) changes nothing
    decisions.prepare_dispute(pilot.context, dispute_id)
    assert [h.trigger for h in pilot.orders.history(case.order_id)
            if h.entity_id == dispute_id].count("prepare") == 1


def test_a_submit_sends_the_evidence_once_under_our_key_and_records_the_reviewer(shop):
    pilot, gateway = shop
    order_id, dispute_id, ref = disputed_order(pilot, gateway)
    decisions.prepare_dispute(pilot.context, dispute_id)
    # When the reviewer submits, adding a paragraph for the bank
    outcome = decisions.decide_dispute(pilot.context, ports_of(gateway), dispute_id,
                                       answer("submit", extra="买家本人签收，见顺丰签收记录"))
    # Then the provider got the evidence once, with the paragraph, under evidence:d-N
    [call] = gateway.dispute_calls
    assert call[:3] == ("evidence", ref, f"evidence:{dispute_id}")
    assert call[3]["uncategorized_text"].endswith("买家本人签收，见顺丰签收记录")
    assert gateway.disputes[ref]["status"] == "under_review"
    # And the dispute is submitted by the reviewer, with the note in the history
    assert outcome == "submitted by reviewer:李娜: 物流签收记录齐全"
    assert pilot.disputes.get(dispute_id)["state"] == "submitted"
    [step] = [h for h in pilot.orders.history(order_id) if h.trigger == "submit"]
    assert step.actor == "reviewer:李娜" and step.payload["note"] == "物流签收记录齐全"
    assert open_case(pilot.context, DISPUTE_REVIEW, dispute_id) is None


def test_an_accept_concedes_and_books_the_chargeback(shop):
    pilot, gateway = shop
    order_id, dispute_id, ref = disputed_order(pilot, gateway)
    outcome = decisions.decide_dispute(pilot.context, ports_of(gateway), dispute_id,
                                       answer("accept", note="包裹确已丢失"))
    assert outcome == "accepted by reviewer:李娜: 包裹确已丢失"
    assert [c[:3] for c in gateway.dispute_calls] == [("accept", ref, f"accept:{dispute_id}")]
    assert pilot.disputes.get(dispute_id)["state"] == "accepted"
    assert pilot.orders.get(order_id).refunded == 29_900


def test_an_answer_after_the_dispute_was_answered_elsewhere_sends_nothing(shop):
    pilot, gateway = shop
    _, dispute_id, _ = disputed_order(pilot, gateway)
    decisions.prepare_dispute(pilot.context, dispute_id)
    # Given finance submitted from the API while the form waited
    pilot.disputes.submit(dispute_id, by="finance:li")
    # When the form's answer arrives (either decision)
    for decision in ("submit", "accept"):
        outcome = decisions.decide_dispute(pilot.context, ports_of(gateway), dispute_id,
                                           answer(decision))
        # Then nothing more goes to the provider, and the outcome says why
        assert outcome == f"nothing sent: {dispute_id} was already submitted (answered " \
                          "elsewhere)"
    assert len(gateway.dispute_calls) == 1


def test_an_answer_after_the_due_date_sends_nothing(shop):
    pilot, gateway = shop
    _, dispute_id, _ = disputed_order(pilot, gateway, due_in=timedelta(hours=1))
    decisions.prepare_dispute(pilot.context, dispute_id)
    pilot.clock.advance(hours=2)
    outcome = decisions.decide_dispute(pilot.context, ports_of(gateway), dispute_id,
                                       answer("submit"))
    assert outcome.startswith("nothing sent: the evidence was due by")
    assert gateway.dispute_calls == []
    assert pilot.disputes.get(dispute_id)["state"] == "evidence_due"
