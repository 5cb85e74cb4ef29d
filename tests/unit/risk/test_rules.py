"""Each rule kind on its own: it fires, it does not fire, and it is false on a missing value."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from statemachine.address import latin_address
from statemachine.risk import rules
from statemachine.risk.ruleset import AmountBand, SkuDailyLimit
from statemachine.risk_port import PlacedLine

from .factories import NOW, an_order, default_rules, hangzhou, quiet_signals

LIMITED = default_rules(sku_daily_limit=SkuDailyLimit(limits={"sku-1": 3}))
BULK = (PlacedLine("sku-1", 20, 100),)

# (rule, order changes, signal changes, expected: "fires" | "quiet"), rules=default unless LIMITED
CASES = [
    ("blacklist", {}, {"blacklist_hits": ("device",)}, "fires"),
    ("blacklist", {}, {}, "quiet"),
    ("velocity", {}, {"velocity": {"buyer": 5}}, "fires"),
    ("velocity", {}, {"velocity": {"buyer": 4, "device": 4}}, "quiet"),
    ("velocity", {}, {"velocity": {}}, "quiet"),
    ("amount_threshold", {"amount": 500_001}, {}, "fires"),
    ("amount_threshold", {"amount": 500_000}, {}, "quiet"),
    ("new_account_bulk", {"lines": BULK}, {"account_created_at": NOW - timedelta(days=1)}, "fires"),
    ("new_account_bulk", {"lines": BULK}, {}, "quiet"),
    ("new_account_bulk", {"lines": BULK}, {"account_created_at": None}, "quiet"),
    ("vague_address", {"address": latin_address("Main St", "Bath", "GB")}, {}, "fires"),
    ("vague_address", {"address": hangzhou("文三路菜鸟驿站18号")}, {}, "fires"),
    ("vague_address", {"address": hangzhou(code="330100", district=None)}, {}, "fires"),
    ("vague_address", {"address": hangzhou("西湖边")}, {}, "fires"),
    ("vague_address", {"address": hangzhou()}, {}, "quiet"),
    ("vague_address", {}, {}, "quiet"),
    ("vague_address", {"address": None}, {}, "quiet"),
    ("virtual_phone", {"phone": "+8617012345678"}, {}, "fires"),
    ("virtual_phone", {"phone": "+8616712345678"}, {}, "fires"),
    ("virtual_phone", {"phone": "+8613812345678"}, {}, "quiet"),
    ("virtual_phone", {"phone": "+441701234567"}, {}, "quiet"),
    ("virtual_phone", {"phone": None}, {}, "quiet"),
    ("address_changes", {}, {"address_changes": 4}, "fires"),
    ("address_changes", {}, {"address_changes": 3}, "quiet"),
    ("address_changes", {}, {"address_changes": None}, "quiet"),
    ("cancel_rate", {}, {"orders_total": 6, "orders_cancelled": 4}, "fires"),
    ("cancel_rate", {}, {"orders_total": 6, "orders_cancelled": 3}, "quiet"),
    ("cancel_rate", {}, {"orders_total": 4, "orders_cancelled": 4}, "quiet"),
    ("cancel_rate", {}, {"orders_total": None, "orders_cancelled": 4}, "quiet"),
    ("credit_restricted", {}, {"credit_score": 59}, "fires"),
    ("credit_restricted", {}, {"credit_score": 60}, "quiet"),
    ("credit_restricted", {}, {"credit_score": None}, "quiet"),
]


@pytest.mark.parametrize(("rule", "order", "signals", "expected"), CASES)
def test_each_rule_fires_only_when_its_condition_holds(rule, order, signals, expected):
    # Given an order and signals
    facts, seen = an_order(**order), quiet_signals(**signals)
    # When the rule is evaluated on its own
    reason = getattr(rules, rule)(facts, seen, default_rules())
    # Then it fires with its own id, or stays quiet
    assert (reason is not None) == (expected == "fires")
    if reason is not None:
        assert reason.rule == rule and reason.values and reason.text


def test_sku_daily_limit_fires_when_todays_units_would_pass_the_limit():
    # Given a limit of 3 per day on sku-1 and 2 already bought today
    seen = quiet_signals(sku_bought_today={"sku-1": 2})
    # When the buyer orders 2 more
    reason = rules.sku_daily_limit(an_order(lines=(PlacedLine("sku-1", 2, 100),)), seen, LIMITED)
    # Then the rule fires and shows what it counted
    assert reason is not None
    assert reason.values == {"sku": "sku-1", "bought_today": 2, "quantity": 2, "limit": 3}


def test_sku_daily_limit_allows_up_to_the_limit_and_ignores_unlisted_skus():
    seen = quiet_signals(sku_bought_today={"sku-1": 2})
    assert rules.sku_daily_limit(an_order(), seen, LIMITED) is None
    other = an_order(lines=(PlacedLine("sku-2", 50, 100),))
    assert rules.sku_daily_limit(other, seen, LIMITED) is None


def test_sku_daily_limit_is_false_when_todays_purchases_are_unknown():
    seen = quiet_signals(sku_bought_today=None)
    nine = an_order(lines=(PlacedLine("sku-1", 9, 1),))
    assert rules.sku_daily_limit(nine, seen, LIMITED) is None


def test_velocity_only_counts_configured_dimensions():
    # Given a rule set that counts buyers only
    only_buyer = default_rules(velocity=replace(default_rules().velocity, dimensions=("buyer",)))
    # When the device is busy but the buyer is not
    reason = rules.velocity(an_order(), quiet_signals(velocity={"device": 9}), only_buyer)
    # Then the rule stays quiet
    assert reason is None


def test_reason_texts_show_money_as_a_person_reads_it():
    reason = rules.amount_threshold(an_order(amount=699_900, currency="CNY"), quiet_signals(),
                                    default_rules())
    assert reason.text == "amount ¥6,999.00 above ¥5,000.00"
    assert reason.values["amount"] == 699_900  # the values stay in minor units


def test_amounts_are_judged_by_the_band_of_their_own_currency():
    # Given the manuals' ¥5,000 threshold, and a band for Kuwaiti dinars (3 decimals)
    ruleset = replace(default_rules(), other_currencies={"KWD": AmountBand(200_000, 10_000)})
    # Then 250.000 KWD (about ¥5,900) is above its band, shown with three decimals ...
    kwd = rules.amount_threshold(an_order(amount=250_000, currency="KWD"), quiet_signals(),
                                 ruleset)
    assert kwd.text == "amount KWD 250.000 above KWD 200.000"
    # ... and an order in a currency with no band goes to a person, saying what to set:
    # 600,000 JPY (about ¥29,000) passed the ¥5,000 threshold before, read as 6,000.00
    jpy = rules.amount_threshold(an_order(amount=600_000, currency="JPY"), quiet_signals(),
                                 ruleset)
    assert jpy.text == "no amount threshold for JPY orders (set other_currencies.JPY)"
    assert rules.amount_threshold(an_order(amount=199_999, currency="KWD"), quiet_signals(),
                                  ruleset) is None
