"""`orderpilot replay` from the command line: tables on screen, the JSON report on disk."""

from __future__ import annotations

import json
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
