"""`orderpilot db new-identity`: a store restored from a copy of another store's database gets
an identity of its own (docs/operate.md), so two consoles on one Prefect server stop taking
each other's case runs; the store it was copied from keeps its own."""

from __future__ import annotations

import shutil

from typer.testing import CliRunner

from integrations.events.identity import store_id
from orderpilot import OrderPilot
from orderpilot.cli import app

RUN = CliRunner()


def _id(url: str) -> str:
    pilot = OrderPilot(url)
    try:
        return store_id(pilot.context)
    finally:
        pilot.close()


def _copy_of_a_named_store(tmp_path) -> tuple[str, str]:
    production = f"sqlite:///{tmp_path / 'production.db'}"
    _id(production)  # the store named itself (its console, relay or workers ran on it)
    shutil.copy(tmp_path / "production.db", tmp_path / "staging.db")
    return production, f"sqlite:///{tmp_path / 'staging.db'}"


def test_a_copied_store_gets_its_own_identity_and_the_original_keeps_its_own(tmp_path):
    production, staging = _copy_of_a_named_store(tmp_path)
    original = _id(production)
    assert _id(staging) == original  # the copy carries production's identity
    result = RUN.invoke(app, ["db", "new-identity", "--yes", "--db", staging])
    assert result.exit_code == 0, result.output
    new = _id(staging)
    assert new != original and f"store identity {new} (was {original})" in result.output
    assert _id(production) == original


def test_without_yes_a_refused_question_changes_nothing(tmp_path):
    production, staging = _copy_of_a_named_store(tmp_path)
    original = _id(staging)
    result = RUN.invoke(app, ["db", "new-identity", "--db", staging], input="n\n")
    assert result.exit_code != 0 and "Aborted" in result.output, result.output
    assert _id(staging) == original
