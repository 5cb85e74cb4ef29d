"""The risk, review and blacklist commands, run through the real CLI on a SQLite file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orderpilot import OrderPilot
from orderpilot.cli import app
from tests.factories import placed_order, stock

FIXTURE = Path(__file__).parents[1] / "fixtures" / "risk_small.csv"
VAGUE = {"street": "Wensan Road", "city": "Hangzhou"}
runner = CliRunner()


@pytest.fixture
def held(sqlite_url, clock):
    """A store with one order held for review (vague address), placed by b-7."""
    pilot = OrderPilot(sqlite_url, clock=clock)
    stock(pilot)
    order = placed_order(pilot, buyer="b-7", shipping_address=VAGUE)
    pilot.close()
    return order.id


def cli(*args: str):
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_review_list_then_reject_with_blacklist_then_refuse_a_second_decision(sqlite_url, held):
    code, out = cli("review", "list", "--db", sqlite_url, "--json")
    assert code == 0 and [t["order_id"] for t in json.loads(out)] == [held]
    code, out = cli("review", "reject", held, "--by", "alice", "--reason", "mule",
                    "--blacklist", "device", "--db", sqlite_url)
    assert code == 0 and "blacklisted buyer, device" in out
    code, out = cli("review", "approve", held, "--by", "bob", "--db", sqlite_url)
    assert code == 2 and "not under review" in out
    code, out = cli("blacklist", "list", "--db", sqlite_url, "--json")
    entries = json.loads(out)
    assert [(e["kind"], e["value"], e["evidence_order_ids"], e["created_by"])
            for e in entries] == [("buyer", "b-7", [held], "alice"),
                                  ("device", "d-b-7", [held], "alice")]


def test_blacklist_add_from_an_order_and_remove(sqlite_url, held):
    code, out = cli("blacklist", "add", "--order", held, "--kind", "address", "--by", "carol",
                    "--reason", "drop address", "--db", sqlite_url)
    assert code == 0 and "buyer b-7" in out and "address CN|||hangzhou||wensan road||" in out
    code, out = cli("blacklist", "remove", "1", "--by", "dave", "--db", sqlite_url)
    assert code == 0 and "removed by dave" in out
    code, out = cli("blacklist", "list", "--db", sqlite_url, "--json")
    assert [e["kind"] for e in json.loads(out)] == ["address"]


def test_a_bad_blacklist_value_is_one_red_line_and_exit_code_2(sqlite_url):
    code, out = cli("blacklist", "add", "--kind", "ip", "--value", "10.0.0.300", "--by", "x",
                    "--reason", "r", "--db", sqlite_url)
    assert code == 2 and "value: expected an IP address or CIDR range" in out


def test_risk_backtest_writes_one_line_per_row_and_prints_the_bands(tmp_path):
    out_csv = tmp_path / "decisions.csv"
    code, out = cli("risk", "backtest", str(FIXTURE), "--out", str(out_csv), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["rows"] == 8
    reject = next(b for b in report["bands"] if b["band"] == "reject")
    assert (reject["precision"], reject["recall"]) == (1.0, 0.75)  # hand-computed in phase 1
    with out_csv.open() as handle:
        assert len(list(csv.DictReader(handle))) == 8


def test_risk_backtest_names_a_bad_rules_file(tmp_path):
    rules = tmp_path / "bad.toml"
    rules.write_text("[velocity]\nmax_ordes = 3\n")
    code, out = cli("risk", "backtest", str(FIXTURE), "--out", str(tmp_path / "o.csv"),
                    "--rules", str(rules))
    assert code == 2 and "velocity.max_ordes" in out


def test_risk_train_saves_a_model_the_backtest_can_use(tmp_path):
    pytest.importorskip("sklearn")
    model = tmp_path / "m.pkl"
    code, out = cli("risk", "train", str(FIXTURE), "--model", str(model))
    assert code == 0 and model.exists()
    code, out = cli("risk", "backtest", str(FIXTURE), "--out", str(tmp_path / "o.csv"),
                    "--model", str(model), "--json")
    assert code == 0 and json.loads(out)["auc"] is not None


def test_shadow_report_without_shadow_decisions_says_how_to_start(sqlite_url, held):
    code, out = cli("risk", "shadow-report", "--db", sqlite_url)
    assert code == 0 and "ORDERPILOT_RISK_SHADOW_RULES" in out
