"""A long-running command stops on SIGTERM, and gives the handlers it found back when it ends:
run inside another program (pytest, a notebook), it must not leave that program deaf to
SIGTERM (the suite once could not be stopped with a plain `kill`)."""

from __future__ import annotations

import os
import signal

from typer.testing import CliRunner

from integrations.events.stopping import stopped_by
from orderpilot.cli import app


def test_sigterm_sets_the_stop_and_the_old_handler_comes_back():
    seen: list[int] = []
    before = signal.signal(signal.SIGTERM, lambda number, _frame: seen.append(number))
    try:
        with stopped_by(signal.SIGTERM) as stop:
            os.kill(os.getpid(), signal.SIGTERM)
            assert stop.wait(5)
        assert seen == []  # the block's handler took it, not the old one
        os.kill(os.getpid(), signal.SIGTERM)
        assert seen == [signal.SIGTERM]  # and the old one is back
    finally:
        signal.signal(signal.SIGTERM, before)


def test_a_relay_run_from_the_cli_leaves_the_callers_handlers_as_they_were(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    result = CliRunner().invoke(app, ["webhooks", "relay", "--once",
                                      "--db", f"sqlite:///{tmp_path / 'shop.db'}"])
    assert result.exit_code == 0, result.output
    assert signal.getsignal(signal.SIGTERM) is before
