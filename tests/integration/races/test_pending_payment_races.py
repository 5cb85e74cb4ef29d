"""A payment the order waits on (payment_pending) settling as its deadline sweep and the buyer's
cancel reach the order; two late payments racing to revive one expired order."""

from __future__ import annotations

import pytest

from tests.integration.races.conftest import TRIALS
from tests.integration.races.shop import (
    PAYMENT_DUE_PASSED,
    expired_unpaid,
    late_refunds,
    money_arrives,
    payment_started,
    start_trial,
)

LOSING = {"InvalidTransition"}


@pytest.mark.parametrize("trials", TRIALS)
def test_pending_money_vs_payment_due_sweep_vs_cancel_is_kept_or_refunded(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given a bank transfer started for an order, at its 72 h deadline, not yet swept
        start_trial(race, trial)
        ref = f"sepa-{trial}"
        order = payment_started(pilot, trial, ref)
        race.at(race.now() + PAYMENT_DUE_PASSED)
        # When the transfer settles as the sweep and the buyer's cancel arrive
        paid, sweep, cancel = race.run(
            money_arrives(race, order, ref),
            ("sweep", {}),
            ("fire", {"order_id": order.id, "trigger": "cancel", "reason": "买家取消",
                      "actor": "buyer"}))
        # Then the money is the order's, or refunded in full: never dropped
        assert paid.ok and sweep.ok, (trial, paid, sweep)
        assert cancel.ok or cancel.error in LOSING, (trial, cancel)
        final = pilot.orders.get(order.id)
        late = late_refunds(pilot, order.id)
        if final.paid:
            assert (final.paid, late) == (order.total, {}), (trial, late)
            assert final.state in ("paid", "cancelled"), (trial, final.state)
        else:
            assert final.state in ("expired", "cancelled"), (trial, final.state)
            assert late == {f"late-refund:simulated:{ref}": ("succeeded", order.total)}, \
                (trial, final.state, paid, late)
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_two_late_payments_revive_the_order_once_and_the_other_is_refunded(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given an expired order (its unit back on the shelf) the buyer paid twice, late
        start_trial(race, trial)
        order = expired_unpaid(race, pilot, trial)
        sku = order.lines[0].sku
        refs = [f"wx-{trial}-a", f"alipay-{trial}-b"]
        # When both payments' notices arrive together (policy: revive)
        outcomes = race.run(*[money_arrives(race, order, ref, late_payments="revive")
                              for ref in refs])
        # Then one revived the order, the other is refunded; the unit is sold once
        assert all(o.ok for o in outcomes), (trial, outcomes)
        final = pilot.orders.get(order.id)
        assert (final.state, final.paid, final.refunded) == ("paid", order.total, 0), trial
        other = next(ref for ref in refs if ref != final.payment_ref)
        assert late_refunds(pilot, order.id) == {
            f"late-refund:simulated:{other}": ("succeeded", order.total)}, (trial, outcomes)
        level = pilot.inventory.level(sku=sku, warehouse="WH-0")
        assert (level.on_hand, level.reserved) == (4, 0), (trial, level)
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_the_same_late_money_delivered_twice_at_once_is_recorded_and_refunded_once(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given a bank transfer that did not settle by its deadline (the order expired)
        start_trial(race, trial)
        ref = f"sepa-{trial}"
        order = payment_started(pilot, trial, ref)
        race.at(race.now() + PAYMENT_DUE_PASSED)
        assert pilot.sweep(race.now()).get("payment_due", 0) >= 1
        # When the gateway reports its settling twice at once, under two event ids
        body = {"type": "succeeded", "order_id": order.id, "amount": order.total,
                "payment_ref": ref}
        outcomes = race.run(*[("payment_webhook", {"event_id": f"late-{trial}-{n}", **body})
                              for n in (1, 2)])
        # Then both are answered 200, the money is in the ledger once and refunded once
        assert [o.result for o in outcomes] == [200, 200], (trial, outcomes)
        with pilot.context.tx(readonly=True) as tx:
            kinds = [k for (k,) in tx.store.sql.all(
                "SELECT kind FROM payment_records WHERE order_id = :o ORDER BY id",
                {"o": int(order.id[2:])})]
        assert kinds == ["late_capture"], (trial, kinds)
        assert list(late_refunds(pilot, order.id)) == [f"late-refund:payments:{ref}"], trial
        assert pilot.orders.get(order.id).state == "expired"
        race.check([order.id])
