"""Rule sets as TOML: the shipped default, overrides, and errors that name the field."""

from __future__ import annotations

import pytest

from integrations.risk.config import (
    RuleSetConfigError,
    default_ruleset,
    load_ruleset,
    parse_ruleset,
)
from statemachine.risk import RuleSet
from statemachine.risk.ruleset import AmountBand
from statemachine.risk_port import RiskAction


def test_the_shipped_default_file_equals_the_documented_defaults():
    assert default_ruleset() == RuleSet()


def test_a_file_overrides_only_what_it_names(tmp_path):
    # Given a file that tightens velocity and makes credit restriction a hard block
    path = tmp_path / "strict.toml"
    path.write_text('name = "strict"\n[velocity]\nmax_orders = 3\n'
                    '[credit]\nrestricted_action = "reject"\n')
    # When loaded
    rules = load_ruleset(path)
    # Then those values change and the rest keep their defaults
    assert (rules.name, rules.velocity.max_orders) == ("strict", 3)
    assert rules.credit.restricted_action is RiskAction.REJECT
    assert rules.velocity.window_seconds == 3600 and rules.amount_review_above == 500_000


@pytest.mark.parametrize(("text", "names"), [
    ("[velocity]\nmax_ordes = 3\n", "velocity.max_ordes"),
    ("[score]\nreject_at = 'high'\n", "score.reject_at"),
    ("[score]\nreject_at = 70\nreview_at = 90\n", "review_at (90.0) must not exceed"),
    ("[velocity]\ndimensions = ['buyer', 'email']\n", "velocity.dimensions.1"),
    ("[credit]\nrestricted_action = 'approve'\n", "credit.restricted_action"),
    ("[score.weights]\nnew_account = 1.5\n", "score.weights.new_account"),
    ("amount_review_above = -1\n", "amount_review_above"),
    ("currency = 'yuan'\n", "currency"),
    ("[other_currencies.usd]\nreview_above = 70000\n", "other_currencies.usd"),
    ("[other_currencies.USD]\nallow_lane_max = 10\n", "other_currencies.USD.review_above"),
    ("[other_currencies.CNY]\nreview_above = 1\n", "other_currencies.CNY repeats"),
])
def test_a_bad_value_is_reported_with_the_field_it_is_in(text, names):
    with pytest.raises(RuleSetConfigError, match="invalid rule set bad.toml") as caught:
        parse_ruleset(text, "bad.toml")
    assert names in str(caught.value)


def test_broken_toml_is_reported_as_such():
    with pytest.raises(RuleSetConfigError, match="not valid TOML"):
        parse_ruleset("[velocity\n", "broken.toml")


def test_a_missing_file_is_reported_with_its_path(tmp_path):
    with pytest.raises(RuleSetConfigError, match="cannot read rule set .*nope.toml"):
        load_ruleset(tmp_path / "nope.toml")


def test_each_other_currency_gets_its_own_band(tmp_path):
    rules = parse_ruleset("[other_currencies.USD]\nreview_above = 70000\nallow_lane_max = 3000\n"
                          "[other_currencies.JPY]\nreview_above = 100000\n", "x.toml")
    assert (rules.currency, rules.amounts_for("CNY")) == ("CNY", AmountBand(500_000, 20_000))
    assert rules.amounts_for("USD") == AmountBand(70_000, 3_000)
    assert rules.amounts_for("JPY") == AmountBand(100_000, 0)  # no allow lane in JPY
    assert rules.amounts_for("EUR") is None
