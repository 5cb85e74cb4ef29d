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
