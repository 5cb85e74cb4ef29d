"""Refunds racing on one order: refunded never exceeds paid, and no caller sees a raw error."""

from __future__ import annotations

import pytest

from tests.integration.races.conftest import TRIALS
from tests.integration.races.shop import PRICE, paid, start_trial


@pytest.mark.parametrize("trials", TRIALS)
def test_two_after_sales_refunds_on_different_lines_of_one_order_both_apply(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given a paid order of two lines
        start_trial(race, trial)
        order = paid(pilot, trial, lines=2)
        # When the buyer's two refund requests (one per line) are handled at the same moment
        outcomes = race.run(*[("open_and_refund", {"order_id": order.id, "line_no": n,
                                                   "quantity": 1}) for n in (1, 2)])
        # Then both are refunded: they fit within what was paid, so neither is refused
        assert [o.result for o in outcomes] == ["refunded", "refunded"], (trial, outcomes)
        assert pilot.orders.get(order.id).refunded == order.total
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_two_refunds_of_the_same_line_refund_it_once(race, trials):
    pilot = race.open()
    for trial in range(trials):
        start_trial(race, trial)
        order = paid(pilot, trial, lines=2)
        outcomes = race.run(*[("open_and_refund", {"order_id": order.id, "line_no": 1,
                                                   "quantity": 1})] * 2)
        assert sorted(str(o.result) for o in outcomes if o.ok) == ["refunded"], (trial,
                                                                                 outcomes)
        # (the second case is refused at opening while the first is open, or refunded)
        assert {o.error for o in outcomes if not o.ok} <= {"UnitsInOpenCase", "InvalidInput",
                                                           "GuardRejected"}
        assert pilot.orders.get(order.id).refunded == PRICE
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_a_case_refund_vs_a_chargeback_never_refund_more_than_paid(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given a paid order of two lines
        start_trial(race, trial)
        order = paid(pilot, trial, lines=2)
        # When a refund of one line and a chargeback of the whole amount arrive together
        refund, chargeback = race.run(
            ("open_and_refund", {"order_id": order.id, "line_no": 1, "quantity": 1}),
            ("payment_webhook", {"event_id": f"cb-{trial}", "type": "chargeback",
                                 "order_id": order.id, "amount": order.total,
                                 "payment_ref": f"alipay-{trial}", "reason": "持卡人拒付"}))
        # Then exactly one fits within what was paid; the other is refused by the guard
        assert refund.ok != chargeback.ok, (trial, refund, chargeback)
        loser = chargeback if refund.ok else refund
        assert loser.error == "GuardRejected", (trial, loser)
        final = pilot.orders.get(order.id)
        assert final.refunded == (PRICE if refund.ok else order.total), trial
        race.check([order.id])
