"""Sweeps told different times running together; a hold extended as the sweep expires it; a
held order's review decided as its buyer cancels and the review-overdue sweep runs; two
dispatchers shipping one packed order with labels."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.races.conftest import TRIALS
from tests.integration.races.shop import HOLD_LAPSED, awaiting_payment, paid, start_trial

REFUSED = {"InvalidTransition", "ReviewAlreadyDecided"}


@pytest.mark.parametrize("trials", TRIALS)
def test_sweeps_told_different_times_expire_only_what_is_due_at_theirs_once(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given five orders placed now, their holds lapsing in 20 minutes
        start_trial(race, trial)
        orders = [awaiting_payment(pilot, trial * 10 + n) for n in range(5)]
        placed = race.now()
        # When three sweeps run at once, told: before the lapse, just after, well after
        times = [placed + timedelta(minutes=10), placed + HOLD_LAPSED,
                 placed + timedelta(hours=2)]
        outcomes = race.run(*[("sweep_at", {"now": t.isoformat()}) for t in times])
        # Then the early sweep expires nothing; the other two expire each order once
        assert all(o.ok for o in outcomes), (trial, outcomes)
        counts = [o.result.get("hold_expiry", 0) for o in outcomes]
        assert counts[0] == 0 and sum(counts) == 5, (trial, outcomes)
        assert [pilot.orders.get(o.id).state for o in orders] == ["expired"] * 5, trial
        race.check([o.id for o in orders])


@pytest.mark.parametrize("trials", TRIALS)
def test_a_review_decided_as_the_buyer_cancels_and_the_overdue_sweep_runs(race, trials):
    pilot = race.open(risk="review_everything")
    for trial in range(trials):
        # Given an order held for review past its 24 h review deadline
        start_trial(race, trial)
        order = awaiting_payment(pilot, trial)
        race.at(race.now() + timedelta(hours=25))
        # When a reviewer approves it as the buyer cancels and the sweep flags it overdue
        approve, cancel, sweep = race.run(
            ("review_cli", {"order_id": order.id, "approve": True, "by": "amy"}),
            ("fire", {"order_id": order.id, "trigger": "cancel", "reason": "买家取消",
                      "actor": "buyer"}),
            ("sweep", {}))
        # Then the buyer's cancel always stands (an approved order awaiting payment may still
        # be cancelled); the approval stands in the history only if it came first, else the
        # reviewer is told the order was decided
        assert sweep.ok and cancel.ok, (trial, sweep, cancel)
        assert approve.ok or approve.error in REFUSED, (trial, approve)
        triggers = [h.trigger for h in pilot.orders.history(order.id)]
        assert triggers[-2:] == (["approve", "cancel"] if approve.ok else ["review", "cancel"]), \
            (trial, triggers, approve)
        assert pilot.orders.get(order.id).state == "cancelled", trial
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_two_dispatchers_shipping_one_order_with_labels_ship_it_once(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given a paid order picked and packed
        start_trial(race, trial)
        order = paid(pilot, trial)
        for trigger in ("start_picking", "pack"):
            pilot.orders.fire(order.id, trigger)
        # When two dispatchers buy a label and ship it at the same moment
        outcomes = race.run(*[("ship_with_labels", {"order_id": order.id})] * 2)
        # Then one ships it, with one parcel; the other is told it shipped already
        assert sorted(o.ok for o in outcomes) == [False, True], (trial, outcomes)
        assert [o.error for o in outcomes if not o.ok] == ["InvalidTransition"], outcomes
        assert pilot.orders.get(order.id).state == "shipped", trial
        assert len(pilot.shipments.of_order(order.id)) == 1, trial
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_a_hold_extended_as_the_sweep_expires_it(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given an order whose stock hold has just lapsed, not yet swept
        start_trial(race, trial)
        order = awaiting_payment(pilot, trial)
        race.at(race.now() + HOLD_LAPSED)
        # When the shop extends the hold (a payment in flight) as the sweep runs
        extend, sweep = race.run(
            ("fire", {"order_id": order.id, "trigger": "extend_hold", "minutes": 15}),
            ("sweep", {}))
        # Then one of them wins: the order waits on with its hold (and its timer) extended,
        # or it expired and the extension is told so
        assert sweep.ok, (trial, sweep)
        final = pilot.orders.get(order.id)
        if extend.ok:
            assert final.state == "awaiting_payment", (trial, final.state, sweep)
        else:
            assert (extend.error, final.state) == ("InvalidTransition", "expired"), \
                (trial, extend, final.state)
        race.check([order.id])
