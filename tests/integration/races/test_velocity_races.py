"""Orders placed at the same moment (parallel checkouts, a script) by one buyer, or by many
accounts from one phone to one address, or by many accounts on their own devices and addresses
shipping to one receiving phone: the velocity rules count each of them, as they count orders
placed one after another."""

from __future__ import annotations

import pytest

from tests.integration.races.actions import ADDRESS
from tests.integration.races.conftest import TRIALS
from tests.integration.races.shop import line, start_trial

EARLIER = 2  # orders the buyer placed earlier in the hour


@pytest.mark.parametrize("trials", TRIALS)
def test_parallel_orders_of_one_buyer_are_all_counted_by_the_velocity_rule(race, trials):
    pilot = race.open(risk="by_rules")
    for trial in range(trials):
        # Given a buyer with two orders this hour (the rule: more than 5 an hour → verify)
        start_trial(race, trial)
        buyer = f"b-fast-{trial}"
        skus = [f"SKU-{trial}-{n}" for n in range(EARLIER + race.pool.size)]
        for sku in skus:
            pilot.inventory.receive(sku=sku, warehouse="WH-HZ", quantity=5)
        for sku in skus[:EARLIER]:
            pilot.orders.place(buyer_id=buyer, lines=[line(sku)], shipping_address=ADDRESS,
                               device_id=f"d-{buyer}")
        # When the buyer places four more at the same moment, one sku each
        outcomes = race.run(*[("place_state", {"buyer": buyer, "lines": [line(sku)]})
                              for sku in skus[EARLIER:]])
        # Then the sixth order of the hour is sent to verification, as it would be one by one
        assert all(o.ok for o in outcomes), (trial, outcomes)
        states = sorted(o.result for o in outcomes)
        assert states == ["awaiting_payment"] * 3 + ["verifying"], (trial, states)
        race.check([])


@pytest.mark.parametrize("trials", TRIALS)
def test_parallel_orders_of_many_accounts_on_one_device_are_decided_as_one_by_one(race, trials):
    pilot = race.open(risk="by_rules")
    for trial in range(trials):
        start_trial(race, trial)
        racing, one_by_one = scores(pilot, race, trial, "race"), scores(pilot, race, trial, "ref")
        # Then the orders placed at once scored as the same orders placed one after another:
        # each counted the others (device shared by more accounts, more orders this hour)
        assert sorted(racing) == sorted(one_by_one), (trial, racing, one_by_one)
        race.check([])


def scores(pilot, race, trial: int, run: str) -> list[float]:
    """Two accounts order from one phone to one address, then four more at the same moment
    (`race`) or one after another (`ref`, another phone and address): their risk scores."""
    device = f"d-{run}-{trial}"
    address = {**ADDRESS, "street": f"文三路 {len(run)} 号",
               "phone": f"139{len(run):04d}{trial:04d}"}  # each run its own phone, as address
    skus = [f"SKU-{run}-{trial}-{n}" for n in range(EARLIER + race.pool.size)]
    for sku in skus:
        pilot.inventory.receive(sku=sku, warehouse="WH-HZ", quantity=5)
    for n, sku in enumerate(skus[:EARLIER]):
        pilot.orders.place(buyer_id=f"b-{run}-{trial}-{n}", lines=[line(sku)],
                           shipping_address=address, device_id=device)
    calls = [{"buyer": f"b-{run}-{trial}-{n}", "lines": [line(sku)], "device": device,
              "address": address} for n, sku in enumerate(skus[EARLIER:], start=EARLIER)]
    if run == "race":
        outcomes = race.run(*[("place_state", call) for call in calls])
        assert all(o.ok for o in outcomes), (trial, outcomes)
    else:
        for call in calls:
            pilot.orders.place(buyer_id=call["buyer"], lines=call["lines"],
                               shipping_address=address, device_id=device)
    return [pilot.orders.get(pilot.orders.list(buyer=call["buyer"]).orders[0].id).risk["score"]
            for call in calls]


@pytest.mark.parametrize("trials", TRIALS)
def test_parallel_orders_of_many_accounts_to_one_phone_are_each_counted_by_phone_velocity(
        race, trials):
    pilot = race.open(risk="by_rules")
    for trial in range(trials):
        # Given two accounts that ordered to the ring's phone earlier today (each on its own
        # device and address: only the phone links them; the rule: 3 other buyers in a day)
        start_trial(race, trial)
        phone = f"138{trial:08d}"
        calls = []
        for n in range(EARLIER + race.pool.size):
            sku, buyer = f"SKU-ring-{trial}-{n}", f"b-ring-{trial}-{n}"
            pilot.inventory.receive(sku=sku, warehouse="WH-HZ", quantity=5)
            address = {**ADDRESS, "street": f"文三路 {n + 1} 号", "phone": phone}
            if n < EARLIER:
                pilot.orders.place(buyer_id=buyer, lines=[line(sku)], shipping_address=address,
                                   device_id=f"d-{buyer}")
            else:
                calls.append(("place_state", {"buyer": buyer, "lines": [line(sku)],
                                              "address": address}))
        # When four more accounts order to that phone at the same moment
        outcomes = race.run(*calls)
        # Then each counted the ones before it, as one by one: the first saw 2 other buyers
        # (approved), the next three saw 3, 4 and 5 (held for a person)
        assert all(o.ok for o in outcomes), (trial, outcomes)
        states = sorted(o.result for o in outcomes)
        assert states == ["awaiting_payment"] + ["under_review"] * 3, (trial, states)
        race.check([])
