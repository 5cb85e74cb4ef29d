"""Small named factories for risk tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from statemachine.risk import RiskSignals, RuleSet
from statemachine.risk_port import PlacedLine, PlacementFacts

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
GOOD_ADDRESS = {"line1": "12 Baker Street", "city": "London", "postcode": "NW1 6XE"}


def an_order(**changes) -> PlacementFacts:
    """A plain 30.00 order of one item by buyer b-1 with a good address."""
    base = PlacementFacts(
        order_id="o-1", buyer_id="b-1", amount=3_000, currency="EUR",
        lines=(PlacedLine("sku-1", 1, 3_000),), shipping_address=GOOD_ADDRESS, placed_at=NOW,
        device_id="dev-1", ip="203.0.113.7", phone="+44 20 7946 0000")
    return replace(base, **changes)


def quiet_signals(**changes) -> RiskSignals:
    """Signals of an ordinary, year-old account with a little clean history."""
    base = RiskSignals(
        account_created_at=NOW - timedelta(days=365), velocity={"buyer": 0, "device": 0},
        sku_bought_today={}, address_changes=0, orders_total=2, orders_cancelled=0,
        orders_completed=2, disputes=0, credit_score=100, device_other_buyers=0,
        ip_other_buyers=0, buyer_mean_amount=3_000.0)
    return replace(base, **changes)


def known_good_signals(**changes) -> RiskSignals:
    """A buyer with plenty of completed orders and no disputes: eligible for the allow lane."""
    return quiet_signals(**{"orders_total": 10, "orders_completed": 10, **changes})


def default_rules(**changes) -> RuleSet:
    """The built-in defaults, optionally changed."""
    return replace(RuleSet(), **changes)
