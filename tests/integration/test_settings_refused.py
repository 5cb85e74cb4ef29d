"""A setting the operator got wrong is bad input like any other: refused before anything opens,
naming the environment variable as it is written and what is expected — never a pydantic
traceback — and never the value itself (it may be a secret). Currencies that orders may not
carry (XTS, gold) may not be the default orders get either."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from orderpilot import OrderPilot
from orderpilot.cli import app
from statemachine.errors import InvalidInput


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("ORDERPILOT_HOLD_MINUTES", "5", "greater than or equal to 15"),
    ("ORDERPILOT_CURRENCY", "XTS", "XTS is the ISO code reserved for testing"),
    ("ORDERPILOT_CURRENCY", "RMB", "not an ISO 4217 currency code"),  # what shops write for CNY
    ("ORDERPILOT_SHOPIFY__CURRENCY", "XAU", "XAU is a precious metal"),
    ("ORDERPILOT_RISK_REVIEW_BUDGET", "20", "less than or equal to 1"),  # 20 meant 20 %
    ("ORDERPILOT_PAYMENTS_PROVIDER", "wechat", "'simulated', 'stripe' or 'alipay'"),
])
def test_a_setting_that_cannot_be_used_is_refused_naming_its_variable(
        monkeypatch, tmp_path, variable, value, expected):
    monkeypatch.setenv(variable, value)
    with pytest.raises(InvalidInput) as refused:
        OrderPilot(f"sqlite:///{tmp_path / 'shop.db'}")
    assert list(refused.value.problems) == [variable]
    assert expected in refused.value.problems[variable]
    assert not (tmp_path / "shop.db").exists()  # refused before the store was opened or made


def test_the_command_line_says_it_in_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_STRIPE_API_KEY", "sk_test_51secretvalue")
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_MAX_RETRIES", "-1")
    result = CliRunner().invoke(app, ["order", "show", "o-1",
                                      "--db", f"sqlite:///{tmp_path / 'shop.db'}"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: invalid input: ORDERPILOT_PAYMENTS_MAX_RETRIES: ")
    assert "Traceback" not in result.output and "secretvalue" not in result.output
