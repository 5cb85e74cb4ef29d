"""Holds expired many orders at a time — by the deadline sweep, and by the bulk path a replay
batch takes (`bulk.fire_orders`) — while the buyers pay the same orders one by one: each order
ends paid or expired, never both; the buyer of an expired one is told so; the stock adds up.
The sweep locks the orders it takes (SKIP LOCKED); the bulk path locks its orders before it
loads them, so a payment that came first is a refusal of that order alone, not of the batch."""

from __future__ import annotations

import pytest

from tests.integration.races.conftest import TRIALS
from tests.integration.races.shop import HOLD_LAPSED, PRICE, awaiting_payment, start_trial

pytestmark = pytest.mark.slow  # ~1 min a store: 50 trials of four orders

ORDERS = 4


def unpaid_past_their_hold(race, pilot, trial: int) -> list[str]:
    """Four orders of one unit each, unpaid, their holds lapsed a minute ago."""
    orders = [awaiting_payment(pilot, trial * 10 + n).id for n in range(ORDERS)]
    race.at(race.now() + HOLD_LAPSED)
    return orders


def check_paid_or_expired(race, pilot, trial, orders, told, expired_by_them):
    """Each order paid (its buyer told so) or expired (its buyer refused), never both."""
    for order_id in orders:
        state = pilot.orders.get(order_id).state
        triggers = [h.trigger for h in pilot.orders.history(order_id) if h.entity == "order"]
        assert state in ("paid", "expired"), (trial, order_id, state)
        assert ("pay" in triggers) != ("expire" in triggers), (trial, order_id, triggers)
        assert told[order_id] == ("paid" if state == "paid" else "invalid_transition"), \
            (trial, order_id, state, told)
        assert (order_id in expired_by_them) == (state == "expired"), (trial, order_id, state)
    race.check(orders)


@pytest.mark.parametrize("trials", TRIALS[:1])
def test_the_sweep_expiring_holds_as_their_buyers_pay_ends_each_order_paid_or_expired(
        race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given four unpaid orders whose holds just lapsed
        start_trial(race, trial)
        orders = unpaid_past_their_hold(race, pilot, trial)
        # When the sweep runs as their buyers pay them, one after the other
        sweep, payer = race.run(("sweep", {}),
                                ("pay_each", {"order_ids": orders, "amount": PRICE}))
        assert sweep.ok and payer.ok, (trial, sweep, payer)
        # (an order the sweep passed over, held by a payment, is swept by the next sweep)
        pilot.sweep(race.now())
        expired = {o for o in orders if pilot.orders.get(o).state == "expired"}
        # Then each order is paid or expired, its buyer told which, the stock adds up
        check_paid_or_expired(race, pilot, trial, orders, payer.result, expired)


@pytest.mark.parametrize("trials", TRIALS[:1])
def test_a_bulk_batch_expiring_holds_as_their_buyers_pay_refuses_only_the_paid_orders(
        race, trials):
    pilot = race.open()
    lost = []  # trials whose whole batch a payment undid (ConcurrentUpdate)
    for trial in range(trials):
        # Given four unpaid orders whose holds just lapsed
        start_trial(race, trial)
        orders = unpaid_past_their_hold(race, pilot, trial)
        # When one bulk batch expires all four as their buyers pay them one after the other
        batch, payer = race.run(("expire_in_bulk", {"order_ids": orders}),
                                ("pay_each", {"order_ids": orders, "amount": PRICE}))
        assert payer.ok and (batch.ok or batch.error == "ConcurrentUpdate"), \
            (trial, batch, payer)
        if not batch.ok:
            lost.append(trial)
        expired = set(orders) - set(batch.result) if batch.ok else set()
        # Then each order is paid or expired, its buyer told which, the stock adds up
        check_paid_or_expired(race, pilot, trial, orders, payer.result, expired)
    print(f"\n{race.url.split(':')[0]}: {len(lost)} of {trials} batches lost whole")
    # and the batch always committed, refusing only the orders paid before it got them
    assert lost == [], f"{len(lost)} of {trials} batches undone whole by one payment: {lost}"
