"""Small named factories for risk tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from statemachine.address import chinese_address, latin_address
from statemachine.risk import RiskSignals, RuleSet
from statemachine.risk_port import PlacedLine, PlacementFacts

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
GOOD_ADDRESS = {"street": "12 Baker Street", "city": "London", "postal_code": "NW1 6XE",
                "country": "GB"}
PARSED = latin_address("12 Baker Street", "London", "GB", postcode="NW1 6XE")


def hangzhou(detail: str = "文三路18号3单元", code: str | None = "330106",
             district: str | None = "西湖区"):
    """A parsed Chinese address in Hangzhou (as the region finder would return it)."""
    return chinese_address(detail, code=code, province="浙江省", city="杭州市",
                           district=district)


def an_order(**changes) -> PlacementFacts:
    """A plain 30.00 order of one item by buyer b-1 with a good address."""
    base = PlacementFacts(
        order_id="o-1", buyer_id="b-1", amount=3_000, currency="CNY",
        lines=(PlacedLine("sku-1", 1, 3_000),), shipping_address=GOOD_ADDRESS, placed_at=NOW,
        device_id="dev-1", ip="203.0.113.7", phone="+442079460000", address=PARSED)
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
