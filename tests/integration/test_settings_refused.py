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
    ("ORDERPILOT_SHOP", "Staging", "lowercase letters, digits and dashes"),  # not a Prefect key
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


@pytest.mark.parametrize(("value", "expected"), [
    ('{"ops": ["mailto://ops:hunter2pw@"]}',  # no server: apprise cannot use it
     "ops[0]: apprise cannot use mailto://… (the URL is not repeated"),
    ('{"ops": "slack://hunter2pw/B/C"}', "ops: Input should be a valid list"),  # one URL, no list
    ('{ops: [slack://hunter2pw/B/C]}', "expected a JSON value"),
])
def test_notify_routes_are_checked_at_start_up_not_at_the_first_notice(
        monkeypatch, tmp_path, value, expected):
    # Given notification routes apprise cannot use (they were read at each notice, so a
    # console or a relay started and failed on its first message)
    monkeypatch.setenv("ORDERPILOT_NOTIFY_ROUTES", value)
    # When orderpilot starts, then it is refused naming the variable and the route
    with pytest.raises(InvalidInput) as refused:
        OrderPilot(f"sqlite:///{tmp_path / 'shop.db'}")
    assert expected in refused.value.problems["ORDERPILOT_NOTIFY_ROUTES"]
    assert "hunter2pw" not in str(refused.value)
    assert not (tmp_path / "shop.db").exists()


@pytest.mark.parametrize(("provider", "given", "missing"), [
    ("kuaidi100", {"KUAIDI100_KEY": "k"},
     "ORDERPILOT_TRACKING__KUAIDI100_SALT, ORDERPILOT_TRACKING__KUAIDI100_CALLBACK_URL"),
    ("aftership", {}, "ORDERPILOT_TRACKING__AFTERSHIP_API_KEY"),
])
def test_a_tracking_provider_without_its_credentials_is_refused_at_start_up(
        monkeypatch, tmp_path, provider, given, missing):
    # Given a tracking provider chosen without all it needs (found only when a relay started)
    monkeypatch.setenv("ORDERPILOT_TRACKING__PROVIDER", provider)
    for name, value in given.items():
        monkeypatch.setenv(f"ORDERPILOT_TRACKING__{name}", value)
    # When orderpilot starts, then it names what is missing
    with pytest.raises(InvalidInput) as refused:
        OrderPilot(f"sqlite:///{tmp_path / 'shop.db'}")
    assert refused.value.problems == {
        "ORDERPILOT_TRACKING": f"the {provider} provider needs {missing} (not set)"}
    assert not (tmp_path / "shop.db").exists()


def test_notices_go_through_the_routes_read_at_start_up(monkeypatch, tmp_path):
    # Given a running store whose routes were read at start-up
    from flows.wiring import ports
    from statemachine.ports import Message

    pilot = OrderPilot(f"sqlite:///{tmp_path / 'shop.db'}")
    ports_ = ports(pilot.context)
    # When the environment changes under it (routes were read again at every notice)
    monkeypatch.setenv("ORDERPILOT_NOTIFY_ROUTES", "{not json")
    # Then a notice still goes through what was read (no route for ops: the log)
    ports_.notify(Message("orderpilot.order.cancelled", "ops", "t", "b"))
    pilot.close()


def test_case_decisions_pay_through_the_gateway_read_at_start_up(monkeypatch, tmp_path):
    # Given a running store built with its payment provider (each Prefect case decision asks
    # for its ports: a gateway made per decision re-read the Secret blocks and left its
    # provider's connection pool open)
    from flows import wiring

    pilot = OrderPilot(f"sqlite:///{tmp_path / 'shop.db'}")
    monkeypatch.setattr(wiring, "payment_gateway",
                        lambda: pytest.fail("a gateway was built again for one decision"))
    # When two decisions ask for their ports, then they pay through the store's own gateway
    assert wiring.ports(pilot.context).gateway is pilot.context.gateway
    assert wiring.ports(pilot.context).gateway is pilot.context.gateway
    pilot.close()
