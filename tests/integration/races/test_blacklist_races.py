"""Reviewers blacklisting the same buyer at the same moment, each from another of the buyer's
orders (a ring of orders reviewed in parallel): every reviewer succeeds, the buyer is listed
once, and each order stays on the entry as evidence. It was a look-up then an INSERT: on
PostgreSQL the second INSERT hit the active-entry index (a raw UniqueViolation), and a merge
of evidence could overwrite another's."""

from __future__ import annotations

import pytest

from tests.integration.races.conftest import TRIALS
from tests.integration.races.shop import awaiting_payment


@pytest.mark.parametrize("trials", TRIALS)
def test_reviewers_blacklisting_one_buyer_at_once(race, trials):
    pilot = race.open()
    for trial in range(trials):
        buyer = f"b-ring-{trial}"
        orders = [awaiting_payment(pilot, trial * 10 + n, buyer=buyer).id
                  for n in range(race.pool.size)]
        outcomes = race.run(*[("blacklist_order", {"order_id": o, "by": f"reviewer-{n}"})
                              for n, o in enumerate(orders)])
        assert all(o.ok for o in outcomes), (trial, outcomes)
        listed = [e for e in pilot.risk.blacklist() if e.kind == "buyer" and buyer in (
            e.value, e.shown)]
        assert len(listed) == 1, (trial, listed)
        assert sorted(listed[0].evidence_order_ids) == sorted(orders), (trial, listed)
