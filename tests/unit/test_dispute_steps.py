"""One table per provider says which steps a dispute status fires (ingest/dispute_steps.py),
for the Shopify webhook and the gateways' notices alike."""

from __future__ import annotations

import typing
from datetime import UTC, datetime

import pytest

from integrations.ingest import dispute_steps
from integrations.ingest.dispute_steps import GATEWAY, SHOPIFY, STRIPE, steps_to
from integrations.ingest.shopify_disputes import ShopifyDispute
from statemachine.dispute import DISPUTE_LIFECYCLE, Dispute, DisputeKind, DisputeState
from statemachine.errors import InvalidInput

AT = datetime(2026, 11, 25, 9, tzinfo=UTC)


def ours(state: str = "opened", kind: str = "inquiry") -> Dispute:
    return Dispute(1, 1, "stripe", "dp_1", "pi_1", DisputeState(state), 1, 7980, "CNY", AT,
                   kind=DisputeKind(kind), reason="fraudulent")


@pytest.mark.parametrize("table", [SHOPIFY, STRIPE, GATEWAY], ids=["shopify", "stripe", "gw"])
def test_every_step_a_table_names_is_a_step_of_the_dispute_lifecycle(table):
    assert {s for steps in table.values() for s in steps} <= set(DISPUTE_LIFECYCLE.triggers)


def test_the_shopify_table_covers_every_type_and_status_the_webhook_accepts():
    hints = typing.get_type_hints(ShopifyDispute)
    accepted = {(kind, status) for kind in typing.get_args(hints["type"])
                for status in typing.get_args(hints["status"])}
    assert set(SHOPIFY) == accepted


@pytest.mark.parametrize(("provider", "kind", "status", "state", "our_kind", "expected"), [
    # still open: nothing to fire
    ("shopify", "chargeback", "needs_response", "opened", "chargeback", []),
    ("stripe", "inquiry", "warning_under_review", "submitted", "inquiry", []),
    # the bank decides
    ("shopify", "chargeback", "won", "submitted", "chargeback", ["win"]),
    ("shopify", "chargeback", "lost", "opened", "chargeback", ["lose"]),
    ("stripe", "chargeback", "lost", "submitted", "chargeback", ["lose"]),
    ("stripe", "chargeback", "won", "opened", "chargeback", ["win"]),
    # conceded in Shopify's admin: accept while unanswered, a loss once answered
    ("shopify", "chargeback", "accepted", "evidence_due", "chargeback", ["accept"]),
    ("shopify", "chargeback", "accepted", "submitted", "chargeback", ["lose"]),
    # an inquiry that ends without a chargeback moves no money
    ("shopify", "inquiry", "lost", "opened", "inquiry", ["close"]),
    ("shopify", "inquiry", "accepted", "submitted", "inquiry", ["close"]),
    ("stripe", "inquiry", "warning_closed", "opened", "inquiry", ["close"]),
    ("simulated", "chargeback", "closed", "opened", "chargeback", ["close"]),
    ("simulated", "chargeback", None, "opened", "chargeback", []),
    ("stripe", "chargeback", None, "opened", "inquiry", ["escalate"]),
    # the inquiry became a chargeback: escalated while open, reopened once closed, then
    # the chargeback's own outcome
    ("shopify", "chargeback", "needs_response", "evidence_due", "inquiry", ["escalate"]),
    ("stripe", "chargeback", "needs_response", "submitted", "inquiry", ["escalate"]),
    ("stripe", "chargeback", "lost", "opened", "inquiry", ["escalate", "lose"]),
    ("shopify", "chargeback", "under_review", "closed", "inquiry", ["reopen"]),
    ("shopify", "chargeback", "accepted", "closed", "inquiry", ["reopen", "accept"]),
    # a late delivery of the inquiry a chargeback grew from: older news
    ("shopify", "inquiry", "lost", "opened", "chargeback", []),
    ("stripe", "inquiry", "warning_closed", "opened", "chargeback", []),
    # our dispute is over: nothing moves
    ("shopify", "chargeback", "won", "lost", "chargeback", []),
    ("shopify", "inquiry", "lost", "closed", "inquiry", []),
    ("stripe", "chargeback", "needs_response", "won", "inquiry", []),
])
def test_the_steps_bring_our_dispute_to_what_the_provider_reports(
        provider, kind, status, state, our_kind, expected):
    dispute = ours(state, our_kind)
    steps = steps_to(provider, kind, status, dispute)
    assert steps == expected
    # and the lifecycle takes them, in order, from our state
    for step in steps:
        DISPUTE_LIFECYCLE.fire(dispute, step, at=AT, actor="shopify", reason="r", due_by=AT)


@pytest.mark.parametrize(("provider", "kind", "status"), [
    ("stripe", "chargeback", "warning_closed"),  # an inquiry's status for a chargeback
    ("stripe", "chargeback", "charge_refunded"), ("shopify", "inquiry", "warning_closed"),
    ("simulated", "chargeback", "refunded")])
def test_a_status_no_table_knows_is_refused_naming_the_field(provider, kind, status):
    with pytest.raises(InvalidInput) as refused:
        steps_to(provider, kind, status, ours())
    assert "status" in refused.value.problems and repr(status) in refused.value.problems["status"]


def test_the_note_says_what_was_done():
    dispute = ours("opened", "chargeback")
    assert dispute_steps.note(dispute, ["escalate"], False, "chargeback", "x") == \
        "dispute d-1 escalated as a chargeback"
    assert "older news" in dispute_steps.note(dispute, [], False, "inquiry", "stripe says y")
