"""Which console work each outbox row asks for."""

from __future__ import annotations

import pytest

from integrations.console.routing import Intent, intents_of


def row(event: str, entity: str = "order", before: str | None = None,
        after: str | None = None, number: int = 7) -> list[Intent]:
    payload = {"from_state": before, "to_state": after, "trigger": "t", "actor": "mei"}
    return intents_of(event, entity, number, 42, payload if after else {})


@pytest.mark.parametrize(("args", "expected"), [
    (("orderpilot.order.under_review", "order", "created", "under_review", 42),
     [("open", "risk-review", "o-42")]),
    (("orderpilot.order.awaiting_payment", "order", "under_review", "awaiting_payment", 42),
     [("close", "risk-review", "o-42")]),
    (("orderpilot.order.cancelled", "order", "under_review", "cancelled", 42),
     [("close", "risk-review", "o-42"), ("job", "settle-cancel", "o-42")]),
    (("orderpilot.order.cancelled", "order", "paid", "cancelled", 42),
     [("job", "settle-cancel", "o-42")]),
    (("orderpilot.order.rejected", "order", "under_review", "rejected", 42),
     [("close", "risk-review", "o-42")]),
    (("orderpilot.order.paid", "order", "under_review", "paid", 42),
     [("close", "risk-review", "o-42")]),
    # an address corrected under review: the form is described again; elsewhere nothing
    (("orderpilot.order.address_corrected", "order", "under_review", "under_review", 42),
     [("refresh", "risk-review", "o-42")]),
    (("orderpilot.order.address_corrected", "order", "paid", "paid", 42), []),
    (("orderpilot.case.requested", "case", None, "requested"), [("job", "triage-refund", "c-7")]),
    (("orderpilot.case.under_review", "case", "requested", "under_review"),
     [("open", "refund-review", "c-7")]),
    (("orderpilot.case.approved", "case", "under_review", "approved"),
     [("close", "refund-review", "c-7"), ("job", "settle-refund", "c-7")]),
    (("orderpilot.case.auto_approved", "case", "requested", "auto_approved"),
     [("job", "settle-refund", "c-7")]),
    (("orderpilot.case.return_bounced", "case", "awaiting_return", "return_bounced"),
     [("open", "return-bounced", "c-7")]),
    (("orderpilot.case.awaiting_return", "case", "return_bounced", "awaiting_return"),
     [("close", "return-bounced", "c-7")]),
    (("orderpilot.case.closed", "case", "return_bounced", "closed"),
     [("close", "return-bounced", "c-7")]),
    (("orderpilot.shipment.stalled", "shipment", "in_transit", "stalled"),
     [("job", "chase-stall", "s-7"), ("open", "stall", "s-7")]),
    (("orderpilot.shipment.late", "shipment", "stalled", "stalled"), []),
    (("orderpilot.shipment.in_transit", "shipment", "stalled", "in_transit"),
     [("close", "stall", "s-7")]),
    (("orderpilot.order.paid", "order", "awaiting_payment", "paid", 42), []),
    (("orderpilot.dispute.opened", "dispute", None, "opened"),
     [("open", "dispute-review", "d-7")]),
    (("orderpilot.dispute.evidence_due", "dispute", "opened", "evidence_due"), []),
    (("orderpilot.dispute.submitted", "dispute", "evidence_due", "submitted"),
     [("close", "dispute-review", "d-7")]),
    (("orderpilot.dispute.accepted", "dispute", "opened", "accepted"),
     [("close", "dispute-review", "d-7")]),
    (("orderpilot.dispute.lost", "dispute", "evidence_due", "lost"),
     [("close", "dispute-review", "d-7")]),
    (("orderpilot.dispute.won", "dispute", "submitted", "won"), []),
])
def test_each_transition_asks_for_exactly_its_console_work(args, expected):
    found = row(*args)
    assert [(i.action, i.kind, i.entity) for i in found] == expected
    assert all(i.order_id == "o-42" for i in found)


@pytest.mark.parametrize(("event", "kind", "entity"), [
    ("orderpilot.order.review_overdue", "risk-review", "order"),
    ("orderpilot.case.sla_breached", "refund-review", "case")])
def test_an_sla_signal_escalates_its_case(event, kind, entity):
    [intent] = intents_of(event, entity, 7, 42, {"order_id": "o-42"})
    assert (intent.action, intent.kind) == ("escalate", kind)


def test_a_bounced_returns_sla_escalates_its_bounced_return_run_not_a_review():
    payload = {"order_id": "o-42", "case_id": "c-7", "state": "return_bounced"}
    [intent] = intents_of("orderpilot.case.sla_breached", "case", 7, 42, payload)
    assert (intent.action, intent.kind, intent.entity) == ("escalate", "return-bounced", "c-7")


def test_a_signal_without_a_state_change_asks_for_nothing():
    assert intents_of("orderpilot.shipment.chased", "shipment", 7, 42, {"ticket": "T-1"}) == []


def test_a_rejected_order_that_was_paid_meanwhile_is_settled_like_a_cancellation():
    payload = {"from_state": "under_review", "to_state": "rejected", "trigger": "reject",
               "actor": "mei", "details": {"refund": 6000, "reason": "盗刷嫌疑"}}
    assert [(i.action, i.kind) for i in intents_of(
        "orderpilot.order.rejected", "order", 42, 42, payload)] == [
        ("close", "risk-review"), ("job", "settle-cancel")]


@pytest.mark.parametrize(("trigger", "before", "after"), [
    ("escalate", "opened", "opened"), ("escalate", "evidence_due", "opened"),
    ("escalate", "submitted", "opened"),
    ("correct_kind", "opened", "opened"), ("correct_kind", "evidence_due", "evidence_due")])
def test_a_dispute_that_becomes_another_kind_unanswered_closes_its_run_and_opens_the_next(
        trigger, before, after):
    # the case episode names the kind (d-7-inquiry, d-7): the inquiry's form answers nothing
    # any more, the chargeback is asked afresh (before: only the re-drive, up to a minute
    # later, noticed either — an escalation from opened changes no state at all)
    payload = {"from_state": before, "to_state": after, "trigger": trigger,
               "actor": "provider:stripe"}
    found = intents_of(f"orderpilot.dispute.{after}", "dispute", 7, 42, payload)
    assert [(i.action, i.kind, i.entity) for i in found] == [
        ("close", "dispute-review", "d-7"), ("open", "dispute-review", "d-7")]
    assert found[0].why == f"{trigger} by provider:stripe"


def test_a_kind_corrected_once_the_dispute_was_answered_asks_for_nothing():
    payload = {"from_state": "won", "to_state": "won", "trigger": "correct_kind",
               "actor": "finance:li"}
    assert intents_of("orderpilot.dispute.kind_corrected", "dispute", 7, 42, payload) == []
