"""A payment, the hold-expiry sweep and the buyer's cancel reaching one order together."""

from __future__ import annotations

import pytest

from tests.integration.races.conftest import TRIALS
from tests.integration.races.shop import (
    HOLD_LAPSED,
    awaiting_payment,
    expired_unpaid,
    late_refunds,
    money_arrives,
    start_trial,
)

LOSING = {"InvalidTransition"}  # the order moved on first: the truthful answer to the loser


@pytest.mark.parametrize("trials", TRIALS)
def test_pay_vs_hold_expiry_sweep_vs_buyer_cancel_on_one_order(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given an order whose stock hold has just lapsed, not yet swept
        start_trial(race, trial)
        order = awaiting_payment(pilot, trial)
        race.at(race.now() + HOLD_LAPSED)
        # When the payment, the sweep and the buyer's cancel arrive at the same moment
        pay, sweep, cancel = race.run(
            ("fire", {"order_id": order.id, "trigger": "pay", "amount": order.total,
                      "payment_ref": f"wx-{trial}"}),
            ("sweep", {}),
            ("fire", {"order_id": order.id, "trigger": "cancel", "reason": "买家取消",
                      "actor": "buyer"}))
        # Then the sweep never fails, the losers are told the order moved on, and the order
        # ends in exactly one of the outcomes, consistently
        assert sweep.ok, (trial, sweep)
        assert {o.error for o in (pay, cancel) if not o.ok} <= LOSING, (trial, pay, cancel)
        final = pilot.orders.get(order.id)
        assert final.state in ("paid", "expired", "cancelled"), (trial, final.state)
        assert (final.state == "expired") == bool(sweep.result.get("hold_expiry")), trial
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_two_sweepers_and_a_payer_on_the_same_due_holds(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given five orders whose holds have lapsed
        start_trial(race, trial)
        orders = [awaiting_payment(pilot, trial * 10 + n) for n in range(5)]
        race.at(race.now() + HOLD_LAPSED)
        # When two sweepers and a late payment for the first order run at once
        first, second, pay = race.run(
            ("sweep", {}), ("sweep", {}),
            ("fire", {"order_id": orders[0].id, "trigger": "pay", "amount": orders[0].total,
                      "payment_ref": f"alipay-late-{trial}"}))
        # Then each lapsed order is expired once, by one sweeper, unless it was paid first
        assert first.ok and second.ok, (trial, first, second)
        states = [pilot.orders.get(o.id).state for o in orders]
        expired = first.result.get("hold_expiry", 0) + second.result.get("hold_expiry", 0)
        assert states.count("expired") == expired, (trial, states, first, second)
        assert states[1:] == ["expired"] * 4, (trial, states)
        assert states[0] == ("paid" if pay.ok else "expired"), (trial, states, pay)
        race.check([o.id for o in orders])


@pytest.mark.parametrize("trials", TRIALS)
def test_provider_money_vs_expiry_sweep_vs_cancel_is_kept_or_refunded_never_lost(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given an order whose stock hold has just lapsed, not yet swept
        start_trial(race, trial)
        order = awaiting_payment(pilot, trial)
        race.at(race.now() + HOLD_LAPSED)
        ref = f"alipay-late-{trial}"
        # When the provider's payment notice, the sweep and the buyer's cancel arrive together
        paid, sweep, cancel = race.run(
            money_arrives(race, order, ref),
            ("sweep", {}),
            ("fire", {"order_id": order.id, "trigger": "cancel", "reason": "买家取消",
                      "actor": "buyer"}))
        # Then the money is either the order's (paid) or refunded in full as a late payment
        assert paid.ok and sweep.ok, (trial, paid, sweep)
        assert cancel.ok or cancel.error in LOSING, (trial, cancel)
        final = pilot.orders.get(order.id)
        late = late_refunds(pilot, order.id)
        if final.paid:  # the notice came first: the order's money (a cancel after refunds it)
            assert (final.paid, final.payment_ref, late) == (order.total, ref, {}), trial
            assert final.state in ("paid", "cancelled"), (trial, final.state)
        else:
            assert final.state in ("expired", "cancelled"), (trial, final.state)
            assert (final.paid, final.refunded) == (0, 0), trial
            assert late == {f"late-refund:simulated:{ref}": ("succeeded", order.total)}, \
                (trial, late)
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_late_money_reviving_an_order_vs_a_buyer_taking_its_stock(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given an order for 1 of 5 units that expired unpaid (its unit is back on the shelf)
        start_trial(race, trial)
        order = expired_unpaid(race, pilot, trial)
        sku = order.lines[0].sku
        # When its money arrives (policy: revive) as another buyer asks for all 5 units
        late, rival = race.run(
            money_arrives(race, order, f"wx-late-{trial}", late_payments="revive"),
            ("place", {"buyer": f"b-rival-{trial}",
                       "lines": [{"sku": sku, "quantity": 5, "unit_price": 1999}]}))
        # Then exactly one of them has the stock: the order revived and the rival told it sold
        # out, or the rival holds all 5 and the late money is refunded
        assert late.ok, (trial, late)
        final = pilot.orders.get(order.id)
        if final.state == "paid":
            assert not rival.ok and rival.error == "InsufficientStock", (trial, rival)
            assert "revived" in late.result, (trial, late)
        else:
            assert final.state == "expired" and rival.ok, (trial, final.state, rival)
            assert "refund" in late.result, (trial, late)
            assert late_refunds(pilot, order.id) == {
                f"late-refund:simulated:wx-late-{trial}": ("succeeded", order.total)}, trial
        level = pilot.inventory.level(sku=sku, warehouse="WH-0")
        assert (level.on_hand, level.reserved) == ((5, 5) if rival.ok else (4, 0)), \
            (trial, level)
        race.check([order.id] + ([rival.result] if rival.ok else []))


@pytest.mark.parametrize("trials", TRIALS)
def test_the_same_keyed_payment_from_four_processes_applies_once(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given an order awaiting payment
        start_trial(race, trial)
        order = awaiting_payment(pilot, trial)
        # When the gateway's webhook arrives four times at once (one event id: one key)
        pay = ("fire", {"order_id": order.id, "trigger": "pay", "amount": order.total,
                        "payment_ref": f"wx-{trial}", "idempotency_key": f"gw-event-{trial}"})
        outcomes = race.run(pay, pay, pay, pay)
        # Then every caller is told the order is paid, and it was paid exactly once
        assert [o.result for o in outcomes] == ["paid"] * 4, (trial, outcomes)
        assert [h.trigger for h in pilot.orders.history(order.id)].count("pay") == 1, trial
        race.check([order.id])
