"""A buyer's cancellation and a case refund settling on one paid order at the same moment, each
paid back through the one provider both processes call: the provider never pays back more than
was paid, and every payout it makes is booked in the store."""

from __future__ import annotations

import pytest

from tests.integration.races.conftest import TRIALS
from tests.integration.races.provider import SharedProvider
from tests.integration.races.shop import approved_refund_case, booked, paid, start_trial

DOMAIN_REFUSALS = {"GuardRejected", "InvalidTransition"}  # the other one got there first


@pytest.mark.parametrize("trials", TRIALS)
def test_a_cancellation_and_a_case_refund_pay_back_what_was_paid_once(race, trials, tmp_path):
    pilot = race.open()
    provider = SharedProvider(str(tmp_path / "provider.pickle"))
    for trial in range(trials):
        # Given a paid order of two lines and a refund-only case for one of them, approved
        start_trial(race, trial)
        order = paid(pilot, trial, lines=2)
        provider.paid(f"alipay-{trial}", order.total)
        case_id = approved_refund_case(pilot, order)
        # When the console settles the case as the buyer cancels the order (and the console
        # settles the cancellation), in two processes
        refund, cancel = race.run(
            ("console_job", {"job": "settle-refund", "entity": case_id,
                             "provider": str(provider.path)}),
            ("cancel_and_settle", {"order_id": order.id, "provider": str(provider.path)}))
        # Then the buyer got back what was paid, once; the store booked every payout
        assert refund.ok or refund.error in DOMAIN_REFUSALS, (trial, refund)
        assert cancel.ok or cancel.error in DOMAIN_REFUSALS, (trial, cancel)
        final = pilot.orders.get(order.id)
        out = provider.refunded(f"alipay-{trial}")
        ledger, pending = booked(pilot, order.id)
        asked = provider.asked(f"alipay-{trial}")
        assert (out, ledger, final.refunded, pending) == (order.total, order.total,
                                                          order.total, []), \
            (trial, out, ledger, final.refunded, pending, asked, refund, cancel)
        race.check([order.id])
