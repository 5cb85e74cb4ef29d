"""Two reviewers deciding the same held order: one decides, the other hears it was decided."""

from __future__ import annotations

import pytest

from tests.integration.races.conftest import TRIALS
from tests.integration.races.shop import awaiting_payment, start_trial


@pytest.mark.parametrize("trials", TRIALS)
def test_two_reviewers_cli_and_prefect_form_decide_the_same_order(race, trials):
    pilot = race.open(risk="review_everything")
    for trial in range(trials):
        # Given an order held for review
        start_trial(race, trial)
        order = awaiting_payment(pilot, trial)
        assert order.state == "under_review"
        # When one reviewer approves from the CLI as another rejects in the Prefect form
        cli, form = race.run(
            ("review_cli", {"order_id": order.id, "approve": True, "by": "amy"}),
            ("review_form", {"order_id": order.id, "approve": False, "by": "bo"}))
        # Then one decision stands and the other reviewer is told it was already decided
        assert cli.ok != form.ok, (trial, cli, form)
        loser = form if cli.ok else cli
        assert loser.error == "ReviewAlreadyDecided", (trial, loser)
        state = pilot.orders.get(order.id).state
        assert state == ("awaiting_payment" if cli.ok else "rejected"), trial
        race.check([order.id])
