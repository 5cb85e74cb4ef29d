"""`orderpilot replay` from the command line: tables on screen, the JSON report on disk."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from orderpilot import cli_replay
from orderpilot.cli import app

FIXTURE = Path(__file__).parents[1] / "fixtures" / "orders_small.csv"


def test_replay_prints_the_report_and_writes_it_as_json(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(cli_replay, "console", Console(width=200))
    out, db = tmp_path / "report.json", tmp_path / "replay.db"
    result = CliRunner().invoke(app, ["replay", str(FIXTURE), "--out", str(out),
                                      "--db", f"sqlite:///{db}"])
    assert result.exit_code == 0, result.output
    assert "16 of 30 rows replayed" in result.output
    assert "Orders by final state" in result.output and "sim-express" in result.output
    report = json.loads(out.read_text())
    assert report["impossible_transitions"] == 0
    assert report["orders_by_state"]["completed"] == 9
    assert report["skipped"]["delivered before purchased"] == 1


def test_replay_limit_reads_only_the_first_rows(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["replay", str(FIXTURE), "--limit", "3", "--out", str(out),
                                      "--db", f"sqlite:///{tmp_path / 'r.db'}"])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["rows_read"] == 3


def test_replay_of_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["replay", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_replay_into_a_used_database_is_refused_without_a_traceback(tmp_path: Path) -> None:
    args = ["replay", str(FIXTURE), "--db", f"sqlite:///{tmp_path / 'r.db'}"]
    CliRunner().invoke(app, args)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "already holds 16 orders" in result.output


def test_replay_address_column_places_each_order_at_its_chinese_address(tmp_path: Path) -> None:
    # Given an Olist-style export with one more column: the buyer's address on one line
    source = tmp_path / "export.csv"
    source.write_text(
        FIXTURE.read_text(encoding="utf-8").splitlines()[0] + ",收货地址\n"
        "cn-1,c-hz,delivered,2024-03-01 09:15:00,2024-03-01 09:20:00,2024-03-02 14:00:00,"
        "2024-03-04 16:30:00,2024-03-08 00:00:00,浙江省杭州市西湖区文三路18号3幢502室\n",
        encoding="utf-8")
    db = tmp_path / "r.db"
    # When it is replayed with that column named
    result = CliRunner().invoke(app, ["replay", str(source), "--address-column", "收货地址",
                                      "--db", f"sqlite:///{db}"])
    # Then the order was placed at that address, parsed by province, city and district
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as conn:
        (attrs,) = conn.execute("SELECT attrs FROM orders").fetchone()
    address = json.loads(attrs)["address"]
    assert (address["province"], address["city"], address["district"]) == (
        "浙江省", "杭州市", "西湖区")
