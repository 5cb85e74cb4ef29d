"""A provider notice names our order by the id we gave it (Stripe metadata, Alipay
out_trade_no): read with the one id codec, ASCII digits only. A hand-written `\\d` pattern took
`o-١` (Arabic-Indic one) for o-1 and paid that order. Both stores."""

from __future__ import annotations

from integrations.ingest.money_events import apply_money_event
from statemachine.ports import MoneyEvent
from tests.factories import placed_order, stock


def test_an_order_id_in_other_digits_names_no_order(any_pilot):
    stock(any_pilot, quantity=10)
    order = placed_order(any_pilot, quantity=1)
    assert order.id == "o-1"
    outcome, follow = apply_money_event(any_pilot.context, MoneyEvent(
        "simulated", "evt-1", "captured", "wx-4200001", order.total, "CNY",
        any_pilot.clock.now(), order_id="o-\u0661"))
    assert (outcome.status, follow) == (200, []), outcome.body
    assert outcome.body["note"] == "no order for wx-4200001: ignored"
    assert any_pilot.orders.get(order.id).state == "awaiting_payment"
    # the same notice naming o-1 in ASCII pays it
    outcome, _ = apply_money_event(any_pilot.context, MoneyEvent(
        "simulated", "evt-2", "captured", "wx-4200001", order.total, "CNY",
        any_pilot.clock.now(), order_id="o-1"))
    assert any_pilot.orders.get(order.id).state == "paid", outcome.body
