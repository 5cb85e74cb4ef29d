"""`orderpilot stall …`: the stall form's choices from a terminal (chase again, declare lost),
through the real CLI on a SQLite file."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from orderpilot import OrderPilot
from orderpilot.cli import app
from statemachine.risk_port import approve_everything
from tests.factories import shipped_order, stock

runner = CliRunner()


@pytest.fixture
def stalled(sqlite_url, clock):
    """A shipped parcel the carrier never picked up (stalled by the sweep after 72 h)."""
    pilot = OrderPilot(sqlite_url, clock=clock, risk_check=approve_everything)
    stock(pilot)
    shipped_order(pilot, buyer="b-7")
    assert pilot.sweep(clock.now() + timedelta(hours=73))["pickup_due"] == 1
    pilot.close()
    return "s-1"


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def events(url: str) -> list[str]:
    from sqlalchemy import select

    from integrations.db.repository import OUTBOX

    pilot = OrderPilot(url)
    with pilot.context.tx(readonly=True) as tx:
        names = [r.event for r in tx.connection.execute(select(OUTBOX.c.event))]
    pilot.close()
    return names


def test_chase_again_keeps_the_parcel_waiting_and_lost_settles_it(sqlite_url, stalled):
    code, out = cli("stall", "list", "--db", sqlite_url)
    assert code == 0 and stalled in out and "b-7" in out
    # When operations chase the carrier once more
    code, out = cli("stall", "chase", stalled, "--by", "lee", "--note", "call the depot",
                    "--db", sqlite_url)
    # Then the chase is recorded with who asked, and the parcel still waits for a person
    assert code == 0 and "chased again by ops:lee: ticket " in out
    assert events(sqlite_url)[-1] == "orderpilot.shipment.chased"
    assert stalled in cli("stall", "list", "--db", sqlite_url)[1]
    # When they declare it lost, the buyer is compensated, a claim filed, the queue empty
    code, out = cli("stall", "lost", stalled, "--by", "lee", "--note", "no scan for 6 days",
                    "--db", sqlite_url)
    assert code == 0 and "declared lost by ops:lee: claim " in out
    assert cli("stall", "list", "--db", sqlite_url)[1].strip() == "no parcel is stalled"
    # and a parcel no longer stalled cannot be chased from the stall queue
    code, out = cli("stall", "chase", stalled, "--by", "lee", "--note", "again", "--db",
                    sqlite_url)
    assert code == 2 and "cannot chase" in out


def test_an_action_without_a_name_is_refused_naming_the_option_and_writes_nothing(
        sqlite_url, stalled):
    before = events(sqlite_url)
    code, out = cli("stall", "chase", stalled, "--by", " ", "--note", "x", "--db", sqlite_url)
    assert code == 2 and "by:" in out
    assert events(sqlite_url) == before
