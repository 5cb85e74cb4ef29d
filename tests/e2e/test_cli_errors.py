"""The CLI answers a bad store URL or an unwritable output directory with one line, exit 2."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from orderpilot.cli import app

RUN = CliRunner()


@pytest.mark.parametrize("url", ["postgresql://nobody:secret@127.0.0.1:1/shop", "bogus://x",
                                 "sqlite:////no/such/dir/shop.db"])
def test_a_store_that_cannot_be_opened_is_one_line_not_a_traceback(url):
    result = RUN.invoke(app, ["order", "show", "o-1", "--db", url])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: the store at ")
    assert "Traceback" not in result.output and "secret" not in result.output


def test_an_output_directory_that_cannot_be_written_is_one_line(tmp_path):
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    RUN.invoke(app, ["stock", "receive", "SKU-1", "WH-1", "5", "--db", db])
    from orderpilot import OrderPilot

    pilot = OrderPilot(db)
    pilot.orders.place(buyer_id="b-1", lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": 5}],
                       shipping_address={"province": "浙江省", "city": "杭州市",
                                         "street": "文三路 18 号"})
    pilot.close()
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    result = RUN.invoke(app, ["evidence", "o-1", "--db", db, "--out", str(blocked / "pack")])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: cannot use")
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", [
    ["order", "show", "o-99", "--db", "DB"],                            # orders
    ["stock", "receive", "SKU-1", "WH-1", "0", "--db", "DB"],           # fulfilment
    ["review", "approve", "o-99", "--by", "ops-li", "--db", "DB"],      # risk
    ["webhooks", "remove", "s-99", "--db", "DB"],                       # outbound webhooks
    ["risk", "backtest", "no-such.csv", "--out", "d.csv"],              # a missing file
    ["risk", "backtest", "no-such.csv", "--out", "d.csv", "--rules", "RULES"],  # bad rules
])
def test_every_command_group_prints_its_error_on_stderr_only(tmp_path, command):
    # Given a store and a rule file that is not one (errors must never mix into stdout,
    # which scripts read and --json fills)
    (tmp_path / "rules.toml").write_text("[thresholds\n")
    places = {"DB": f"sqlite:///{tmp_path / 'shop.db'}", "RULES": str(tmp_path / "rules.toml")}
    result = RUN.invoke(app, [places.get(word, word) for word in command])
    # Then the refusal is one line on stderr, exit 2, and nothing on stdout
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == ""
