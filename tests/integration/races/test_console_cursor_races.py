"""Two consoles saving their outbox cursor at the same moment (one restarting while the other
still runs): both succeed and one cursor stands. It was a DELETE then an INSERT, and on
PostgreSQL the second INSERT hit the key: a raw UniqueViolation stopped the console's loop."""

from __future__ import annotations

import pytest

from integrations.console.follower import load_cursor
from tests.integration.races.conftest import TRIALS


@pytest.mark.parametrize("trials", TRIALS)
def test_two_consoles_saving_the_cursor_at_once_both_succeed(race, trials):
    pilot = race.open()
    for trial in range(trials):
        ids = [trial * 10 + n for n in range(1, race.pool.size + 1)]
        outcomes = race.run(*[("save_console_cursor", {"outbox_id": i}) for i in ids])
        assert all(o.ok for o in outcomes), (trial, outcomes)
        assert load_cursor(pilot.context) in ids, trial
