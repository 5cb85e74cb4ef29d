"""Parcels of one order moving at the same moment: the last one delivers the order, always."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.races.conftest import TRIALS
from tests.integration.races.shop import in_transit, start_trial


@pytest.mark.parametrize("trials", TRIALS)
def test_the_two_last_parcels_delivered_at_once_deliver_the_order(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given an order shipped in two parcels, both on their way
        start_trial(race, trial)
        order, parcels = in_transit(pilot, trial, parcels=2)
        # When the carrier delivers both at the same moment (two processes)
        outcomes = race.run(*[("fire_parcel", {"shipment_id": s, "trigger": "deliver"})
                              for s in parcels])
        # Then both are delivered and the order is delivered, with its auto-complete timer
        assert [o.result for o in outcomes] == ["delivered", "delivered"], (trial, outcomes)
        assert pilot.orders.get(order.id).state == "delivered", trial
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_deliver_vs_lose_on_one_parcel(race, trials):
    pilot = race.open()
    for trial in range(trials):
        start_trial(race, trial)
        order, (parcel,) = in_transit(pilot, trial)
        deliver, lose = race.run(("fire_parcel", {"shipment_id": parcel, "trigger": "deliver"}),
                                 ("lose_parcel", {"shipment_id": parcel}))
        # Then exactly one wins; the parcel and the order agree with it
        assert deliver.ok != lose.ok, (trial, deliver, lose)
        assert {o.error for o in (deliver, lose) if not o.ok} <= {"InvalidTransition"}
        state = pilot.shipments.get(parcel).state
        assert state == ("delivered" if deliver.ok else "lost"), (trial, state)
        expected = "delivered" if deliver.ok else "completed"  # lost: refunded and closed
        assert pilot.orders.get(order.id).state == expected, trial
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_a_stall_sweep_vs_a_carrier_scan_on_the_same_parcel(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given a parcel silent for longer than the scan-silence limit
        start_trial(race, trial)
        order, (parcel,) = in_transit(pilot, trial)
        race.at(race.now() + timedelta(hours=25))
        tracking = pilot.shipments.get(parcel).tracking_no
        # When the sweep stalls it while the carrier's next scan arrives
        sweep, scan = race.run(
            ("sweep", {}),
            ("carrier_webhook", {"event_id": f"kd100-{trial}", "carrier": "sim-express",
                                 "tracking_no": tracking, "status": "in_transit",
                                 "location": "上海浦东分拨中心"}))
        # Then both succeed and the parcel ends moving (the scan came last or resumed it)
        assert sweep.ok and scan.ok, (trial, sweep, scan)
        assert pilot.shipments.get(parcel).state == "in_transit", trial
        race.check([order.id])
