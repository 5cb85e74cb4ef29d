"""After-sales cases opened at the same moment on one unit: exactly one opens, whatever the
store, and the other caller is told which open case holds the unit."""

from __future__ import annotations

import pytest

from tests.integration.races.conftest import TRIALS
from tests.integration.races.shop import paid, start_trial


@pytest.mark.parametrize("trials", TRIALS)
def test_two_cases_opened_at_once_on_one_unit_open_exactly_one(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given a paid order of one unit
        start_trial(race, trial)
        order = paid(pilot, trial)
        # When the buyer asks for a refund and a return of it at the same moment
        outcomes = race.run(*[("open_case", {"order_id": order.id, "kind": kind,
                                             "line_no": 1, "quantity": 1})
                              for kind in ("refund_only", "return_refund")])
        # Then exactly one case opens; the other is refused, naming that case
        opened = [o.result for o in outcomes if o.ok]
        assert len(opened) == 1, (trial, outcomes)
        [loser] = [o for o in outcomes if not o.ok]
        assert loser.error == "UnitsInOpenCase", (trial, loser)
        assert opened[0] in loser.message, (trial, loser)
        race.check([order.id])
