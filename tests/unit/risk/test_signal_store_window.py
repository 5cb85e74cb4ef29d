"""The backtest's in-memory velocity window ends where the store's does: an order placed
exactly one window before is out of it (db/risk_signals.velocity counts placed_at > now - window),
so a backtest and the live shop judge the order at that edge alike."""

from __future__ import annotations

from datetime import timedelta

from integrations.risk.signal_store import InMemorySignalStore
from statemachine.risk.signals import BUYER

from .factories import NOW, an_order, default_rules


def test_an_order_exactly_one_window_old_is_out_of_the_velocity_window():
    ruleset = default_rules()
    window = timedelta(seconds=ruleset.velocity.window_seconds)
    store = InMemorySignalStore(ruleset)
    store.record(an_order(order_id="o-edge", placed_at=NOW - window))
    store.record(an_order(order_id="o-inside", placed_at=NOW - window + timedelta(seconds=1)))
    seen = store.signals_for(an_order(order_id="o-now", placed_at=NOW), None)
    assert seen.velocity[BUYER] == 1
