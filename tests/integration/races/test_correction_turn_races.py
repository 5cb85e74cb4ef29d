"""An address correction and a placement to one phone at the same moment: the correction takes
the turns of the numbers and address it sends the order to, as placements take them
(`Store.placing_for`), so each is judged with the other counted — side by side on PostgreSQL
neither saw the other, and a ring's fourth account and a correction onto its number both
passed `phone_velocity` (3 other buyers in a day → review)."""

from __future__ import annotations

import pytest

from tests.integration.races.actions import ADDRESS
from tests.integration.races.conftest import TRIALS
from tests.integration.races.shop import line, start_trial


def ring_address(trial: int, n: int, phone: str) -> dict[str, str]:
    return {**ADDRESS, "street": f"文三路{n + 1}号", "recipient": f"张{n}", "phone": phone}


@pytest.mark.parametrize("trials", TRIALS)
def test_a_correction_onto_a_rings_phone_and_a_placement_to_it_each_count_the_other(
        race, trials):
    pilot = race.open(risk="rules_judging_corrections")
    for trial in range(trials):
        # Given two accounts that shipped to the ring's number today (each on its own device
        # and address), and another buyer's order, approved, to the buyer's own number
        start_trial(race, trial)
        ring, skus = f"138{trial:08d}", [f"SKU-t{trial}-{n}" for n in range(4)]
        for sku in skus:
            pilot.inventory.receive(sku=sku, warehouse="WH-HZ", quantity=5)
        for n in range(2):
            pilot.orders.place(buyer_id=f"b-ring-{trial}-{n}", lines=[line(skus[n])],
                               shipping_address=ring_address(trial, n, ring),
                               device_id=f"d-ring-{trial}-{n}")
        own = ring_address(trial, 8, f"139{trial:08d}")
        order = pilot.orders.place(buyer_id=f"b-own-{trial}", lines=[line(skus[2])],
                                   shipping_address=own, device_id=f"d-own-{trial}")
        assert order.state == "awaiting_payment", (trial, order.risk)
        # When ops correct that order's phone to the ring's number while a third account
        # places an order to it, at the same moment
        correction, placement = race.run(
            ("correct_phone", {"order_id": order.id, "address": {**own, "phone": ring}}),
            ("place_state", {"buyer": f"b-ring-{trial}-2", "lines": [line(skus[3])],
                             "address": ring_address(trial, 2, ring)}))
        assert correction.ok and placement.ok, (trial, correction, placement)
        # Then whichever came second counted the first (3 other buyers on the number): the
        # correction, refused on an order past its review; or the placement, held for a
        # person — never both passed
        outcome = (correction.result, placement.result)
        assert outcome in (("corrected", "under_review"),
                           ("refused: address.phone", "awaiting_payment")), (trial, outcome)
        race.check([order.id])
