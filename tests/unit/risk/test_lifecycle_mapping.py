"""Which transitions change a buyer's credit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.risk.hooks import order_credit_event
from statemachine.lifecycle import Fired

AT = datetime(2026, 11, 11, tzinfo=UTC)


def fired(trigger: str, source: str, dest: str, actor: str = "b-1") -> Fired:
    return Fired("order", "o-1", trigger, source, dest, dest, AT, actor)


@pytest.mark.parametrize(("trigger", "source", "dest", "actor", "kind"), [
    ("cancel", "awaiting_payment", "cancelled", "b-1", "cancel_after_hold"),
    ("cancel", "paid", "cancelled", "b-1", "cancel_after_hold"),
    ("cancel", "picking", "cancelled", "ops", "cancel_after_hold"),
    ("cancel", "under_review", "cancelled", "b-1", None),
    ("cancel", "created", "cancelled", "b-1", None),
    ("cancel", "paid", "cancelled", "system:fraud", None),
    ("expire", "awaiting_payment", "expired", "system:sweep", "unpaid_expiry"),
    # a payment that started and did not settle in time is not the buyer's unpaid order
    ("expire", "payment_pending", "expired", "system:sweep", None),
    ("cancel", "payment_pending", "cancelled", "b-1", "cancel_after_hold"),
    ("close", "delivered", "completed", "system:auto-complete", "good_order"),
    ("pay", "awaiting_payment", "paid", "gateway", None),
    ("reject", "under_review", "rejected", "mei", None),
])
def test_each_order_transition_maps_to_at_most_one_credit_event(trigger, source, dest, actor,
                                                                 kind):
    event = order_credit_event(fired(trigger, source, dest, actor))
    assert (event[0].value if event else None) == kind
