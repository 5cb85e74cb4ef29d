"""Every command that reads settings or opens the store refuses bad input the same way: one line
on stderr naming the setting (or the store) and what is expected, exit code 2, no traceback, and
nothing written — not even a new store file. These commands built their settings or their
context before the error handling began."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from orderpilot.cli import app

RUN = CliRunner()
FIXTURE = Path(__file__).parents[1] / "fixtures" / "risk_small.csv"
HOLD = ("ORDERPILOT_HOLD_MINUTES", "5")  # the stock hold is 15–30 minutes

COMMANDS = {
    "relay": (["relay", "--once", "--db", "DB", "--api-url", "http://127.0.0.1:9/api"], HOLD),
    "relay (payments)": (["relay", "--once", "--db", "DB", "--api-url", "http://127.0.0.1:9/api"],
                         ("ORDERPILOT_PAYMENTS_PROVIDER", "wechat")),
    "serve": (["serve", "--db", "DB", "--no-relay"], HOLD),
    "db upgrade": (["db", "upgrade"], HOLD),  # the store from the settings: none written
    "api": (["api", "--db", "DB"], ("ORDERPILOT_HTTP_PORT", "eighty")),
    "api (JSON)": (["api", "--db", "DB"], ("ORDERPILOT_HTTP_SECRETS", "{payments: s3cret}")),
    "risk backtest": (["risk", "backtest", "FIXTURE", "--out", "OUT"],
                      ("ORDERPILOT_RISK_REVIEW_BUDGET", "20")),
    "case list": (["case", "list", "--db", "DB"], HOLD),
    "stall list": (["stall", "list", "--db", "DB"], HOLD),
}


@pytest.mark.parametrize("name", COMMANDS)
def test_a_setting_a_command_cannot_use_is_one_line_naming_it(monkeypatch, tmp_path, name):
    # Given a setting the operator got wrong (and a working directory where the default
    # store would be made)
    command, (variable, value) = COMMANDS[name]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, value)
    places = {"DB": f"sqlite:///{tmp_path / 'shop.db'}", "OUT": str(tmp_path / "decisions.csv"),
              "FIXTURE": str(FIXTURE)}
    # When the command runs
    result = RUN.invoke(app, [places.get(word, word) for word in command])
    # Then it says which setting and what it expects, in one line, exit 2
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: invalid input: {variable}: "), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert "s3cret" not in result.output  # a setting's value is not repeated
    # And nothing was written
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_db_upgrade_of_a_store_that_cannot_be_opened_is_one_line(tmp_path):
    result = RUN.invoke(app, ["db", "upgrade", "--db",
                              "postgresql://shop:hunter2pw@127.0.0.1:1/x"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: the store at ")
    assert "Traceback" not in result.output and "hunter2pw" not in result.output
