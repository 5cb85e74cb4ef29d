"""Late money told twice at once, refunded through the one provider every process shares."""

from __future__ import annotations

import pytest

from tests.integration.races.conftest import TRIALS
from tests.integration.races.provider import SharedProvider
from tests.integration.races.shop import expired_unpaid, late_refunds, money_arrives, start_trial


@pytest.mark.parametrize("trials", TRIALS)
def test_one_late_payment_notice_delivered_twice_at_once_is_refunded_once(race, trials,
                                                                          tmp_path):
    pilot = race.open()
    provider = SharedProvider(str(tmp_path / "provider.pickle"))
    for trial in range(trials):
        # Given an order that expired unpaid, and the buyer's money captured at the provider
        start_trial(race, trial)
        order = expired_unpaid(race, pilot, trial)
        ref = f"wx-late-{trial}"
        provider.paid(ref, order.total)
        # When the provider delivers its notice twice at the same moment (one event id)
        notice = money_arrives(race, order, ref, provider=str(provider.path))
        outcomes = race.run(notice, notice)
        # Then the money is recorded once and paid back once, by the provider too
        assert all(o.ok for o in outcomes), (trial, outcomes)
        assert late_refunds(pilot, order.id) == {
            f"late-refund:simulated:{ref}": ("succeeded", order.total)}, (trial, outcomes)
        assert [(amount, outcome) for _, amount, outcome in provider.asked(ref)] \
            in ([(order.total, "done")], [(order.total, "done")] * 2), trial
        assert provider.refunded(ref) == order.total, (trial, provider.asked(ref))
        race.check([order.id])
