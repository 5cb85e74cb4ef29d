"""`orderpilot relay --once` publishes the waiting outbox rows and says how many."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from integrations.events.relay import unpublished
from orderpilot.cli import app
from tests.integration.orchestration.shop import Recorder, open_shop, place


def test_relay_once_publishes_every_waiting_row_and_reports_the_count(tmp_path: Path):
    # Given a shop with one paid order (3 outbox rows) and a receiver
    pilot = open_shop(str(tmp_path / "shop.db"))
    order_id = place(pilot)
    pilot.orders.fire(order_id, "pay", amount=2500, payment_ref="pay-1")
    recorder = Recorder()
    try:
        # When `orderpilot relay --once` runs
        result = CliRunner().invoke(app, ["relay", "--once", "--db", f"sqlite:///{tmp_path}/shop.db",
                                          "--api-url", recorder.api_url])
    finally:
        recorder.close()
    # Then the three events went out and the command said so
    assert result.exit_code == 0, result.output
    assert "published 3 event(s)" in result.output
    assert [e["event"] for e in recorder.deliveries] == [
        "orderpilot.order.created", "orderpilot.order.awaiting_payment", "orderpilot.order.paid"]


@pytest.mark.slow
def test_relay_once_to_a_dead_server_fails_with_one_clear_line_and_marks_nothing(
        tmp_path: Path):
    # Given a placed order (2 outbox rows) and no server listening
    pilot = open_shop(str(tmp_path / "shop.db"))
    place(pilot)
    # When the relay runs (it retries with backoff for ~7 s, then gives up)
    result = CliRunner().invoke(app, ["relay", "--once", "--db", f"sqlite:///{tmp_path}/shop.db",
                                      "--api-url", "http://127.0.0.1:9/api"])
    # Then it exits 2 naming the problem, and both rows still wait
    assert result.exit_code == 2
    assert "2 event(s) not delivered to http://127.0.0.1:9/api/events" in result.output
    assert unpublished(pilot.context) == 2
