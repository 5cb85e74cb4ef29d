"""After-sales cases of several lines touch their inventory rows in the global lock order,
(sku, warehouse), whatever order their lines are in: two exchanges closed at the same moment,
one on an order of (tee, cap) and one on an order of (cap, tee), each give back their
replacements' held units without waiting on each other in a circle."""

from __future__ import annotations

import pytest

from tests.integration.races.actions import ADDRESS
from tests.integration.races.conftest import TRIALS
from tests.integration.races.shop import line, start_trial

pytestmark = pytest.mark.slow  # ~45 s a store: 50 trials of two delivered orders each

WAREHOUSE = "WH-1"


def delivered(pilot, buyer: str, skus: list[str]) -> str:
    """An order of one unit of each sku, in this line order, paid, shipped and delivered."""
    order = pilot.orders.place(buyer_id=buyer, lines=[line(sku) for sku in skus],
                               shipping_address=ADDRESS, device_id=f"d-{buyer}")
    pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"alipay-{buyer}")
    for trigger in ("start_picking", "pack", "ship"):
        pilot.orders.fire(order.id, trigger)
    for parcel in pilot.shipments.of_order(order.id):
        for trigger in ("pick_up", "deliver"):
            pilot.shipments.fire(parcel.id, trigger)
    return order.id


def exchange_approved(pilot, order_id: str) -> str:
    """Both lines exchanged, approved at once: a replacement unit of each is held."""
    case = pilot.cases.open(order_id, kind="exchange", reason="尺码偏小, 换一件",
                            lines=[{"line_no": 1, "quantity": 1}, {"line_no": 2, "quantity": 1}])
    pilot.cases.fire(case.id, "auto_approve")
    return case.id


@pytest.mark.parametrize("trials", TRIALS[:1])
def test_two_exchanges_with_lines_in_opposite_order_release_their_stock_without_a_deadlock(
        race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given a tee and a cap in stock, one order of (tee, cap) and one of (cap, tee), both
        # delivered, and an exchange of both lines approved on each (replacements held)
        start_trial(race, trial)
        tee, cap = f"SKU-{trial}-TEE", f"SKU-{trial}-CAP"
        for sku in (tee, cap):
            pilot.inventory.receive(sku=sku, warehouse=WAREHOUSE, quantity=4)
        orders = [delivered(pilot, f"b-{trial}-a", [tee, cap]),
                  delivered(pilot, f"b-{trial}-b", [cap, tee])]
        cases = [exchange_approved(pilot, order_id) for order_id in orders]
        # When both cases are closed at the same moment (their replacements given back:
        # line 1 then line 2 was tee then cap for one, cap then tee for the other)
        outcomes = race.run(*[("fire_case", {"case_id": case, "trigger": "close"})
                              for case in cases])
        # Then both close, and the holds add up with the inventory
        assert [o.result for o in outcomes] == ["closed", "closed"], (trial, outcomes)
        race.check(orders)
    deadlocks = race.deadlocks()
    print(f"\n{race.url.split(':')[0]}: {trials} trials, {deadlocks} deadlocks")
    # and neither ever waited on the other in a circle (PostgreSQL would have said so)
    assert deadlocks in (None, 0), f"{deadlocks} deadlocks in {trials} trials"
