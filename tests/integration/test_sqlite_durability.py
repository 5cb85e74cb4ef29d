"""ORDERPILOT_SQLITE_SYNCHRONOUS: how durable a SQLite COMMIT is (docs/operate.md#durability).

The level is per connection in SQLite (`PRAGMA synchronous` is not stored in the file), so
every connection the store writes on must be given it: the units of work (the write path of
every service call), the engine (Core reads, migrations) and a group commit's batch. Read back
from SQLite itself, not from our settings object.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from integrations.config import Settings
from integrations.db.engine import make_engine
from integrations.service.group_commit import GroupCommit
from orderpilot import OrderPilot
from orderpilot.cli import app
from statemachine.errors import InvalidInput
from statemachine.risk_port import approve_everything

LEVELS = {"normal": 1, "full": 2}  # what `PRAGMA synchronous` answers


def _level(units) -> int:
    with units.begin() as connection:
        return connection.exec_driver_sql("PRAGMA synchronous").scalar()


def _levels(pilot: OrderPilot) -> dict[str, int]:
    ctx = pilot.context
    with ctx.engine.connect() as connection:
        engine = connection.exec_driver_sql("PRAGMA synchronous").scalar()
    group = GroupCommit(ctx, max_batch=1, max_wait=0)
    try:
        batch = group.run(lambda c: _level(c.units))
    finally:
        group.close()
    return {"units": _level(ctx.units), "engine": engine, "group batch": batch}


@pytest.mark.parametrize("written", ["full", "FULL", "normal"])
def test_the_level_from_the_environment_reaches_every_connection(monkeypatch, sqlite_url, written):
    monkeypatch.setenv("ORDERPILOT_SQLITE_SYNCHRONOUS", written)
    pilot = OrderPilot(sqlite_url, risk_check=approve_everything)
    try:
        expected = LEVELS[written.lower()]
        assert _levels(pilot) == {"units": expected, "engine": expected, "group batch": expected}
    finally:
        pilot.close()


def test_the_default_is_the_documented_one(monkeypatch, sqlite_url):
    monkeypatch.delenv("ORDERPILOT_SQLITE_SYNCHRONOUS", raising=False)
    assert Settings().sqlite_synchronous == "full"  # docs/operate.md#durability says why
    pilot = OrderPilot(sqlite_url, risk_check=approve_everything)
    try:
        assert set(_levels(pilot).values()) == {LEVELS["full"]}
    finally:
        pilot.close()


def test_settings_given_in_code_are_applied_too(monkeypatch, sqlite_url):
    monkeypatch.delenv("ORDERPILOT_SQLITE_SYNCHRONOUS", raising=False)
    pilot = OrderPilot(
        sqlite_url, risk_check=approve_everything, settings=Settings(sqlite_synchronous="normal")
    )
    try:
        assert set(_levels(pilot).values()) == {LEVELS["normal"]}
    finally:
        pilot.close()


@pytest.mark.parametrize("value", ["off", "extra", "2", ""])
def test_a_level_we_do_not_offer_is_refused_naming_the_setting(monkeypatch, tmp_path, value):
    # off would acknowledge writes SQLite never synced; extra / numbers are not ours to offer
    monkeypatch.setenv("ORDERPILOT_SQLITE_SYNCHRONOUS", value)
    with pytest.raises(InvalidInput) as refused:
        OrderPilot(f"sqlite:///{tmp_path / 'shop.db'}")
    assert refused.value.problems == {
        "ORDERPILOT_SQLITE_SYNCHRONOUS": "Input should be 'normal' or 'full'"
    }
    assert not (tmp_path / "shop.db").exists()  # refused before the store was made


def test_db_upgrade_with_a_db_option_still_reads_the_level(monkeypatch, tmp_path):
    # `db upgrade --db URL` read no settings at all: a bad level passed unnoticed
    monkeypatch.setenv("ORDERPILOT_SQLITE_SYNCHRONOUS", "off")
    result = CliRunner().invoke(app, ["db", "upgrade", "--db", f"sqlite:///{tmp_path / 's.db'}"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: invalid input: ORDERPILOT_SQLITE_SYNCHRONOUS: ")
    assert list(tmp_path.iterdir()) == []


def test_the_engine_refuses_a_level_it_does_not_know(tmp_path):
    # never interpolated into a PRAGMA: a level arrives from code as well as from settings
    with pytest.raises(ValueError, match="sqlite_synchronous must be one of normal, full"):
        make_engine(f"sqlite:///{tmp_path / 'x.db'}", sqlite_synchronous="full; DROP TABLE x")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.postgres
def test_postgres_takes_no_sqlite_level(monkeypatch, postgres_url):
    # the setting names SQLite; PostgreSQL's durability is its own synchronous_commit
    monkeypatch.setenv("ORDERPILOT_SQLITE_SYNCHRONOUS", "full")
    pilot = OrderPilot(postgres_url, risk_check=approve_everything)
    try:
        with pilot.context.units.begin() as connection:
            assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    finally:
        pilot.close()
