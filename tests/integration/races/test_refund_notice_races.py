"""A refund of ours made at the provider and the provider's notice of it reaching the store at
the same moment: the refund is booked once. The notice took only refunds the provider had named
(provider_ref noted) for ours; one that came before our call's answer was settled booked the
money as a refund made at the provider's dashboard, and then our settle booked it again (or,
answered `pending`, our operation waited for a confirmation that had come already)."""

from __future__ import annotations

import pytest

from integrations.service import money
from statemachine import ids
from statemachine.money import OperationKind
from tests.integration.races.conftest import TRIALS
from tests.integration.races.shop import paid, start_trial

GOODWILL = 500


def goodwill_refund_recorded(pilot, order) -> str:
    """A staff goodwill refund of a paid order, recorded (pending) and not yet made."""
    key = f"refund:{order.id}:goodwill"
    with pilot.context.tx() as tx:
        locked = tx.store.get_order(int(order.id[2:]), lock=True)
        money.request(pilot.context, tx, locked, OperationKind.REFUND, GOODWILL, key,
                      "staff:amy", reason="goodwill: late delivery", at=pilot.clock.now())
    return key


def booked_refunds(pilot, order_id: str) -> int:
    """The refunds in the order's ledger (payment_records)."""
    with pilot.context.tx(readonly=True) as tx:
        return sum(r[0] for r in tx.store.sql.all(
            "SELECT amount FROM payment_records WHERE order_id = :o AND kind = 'refund'",
            {"o": ids.ORDER.parse(order_id)}))


@pytest.mark.parametrize("status", ["succeeded", "pending"])
@pytest.mark.parametrize("trials", TRIALS)
def test_our_refund_and_the_providers_notice_of_it_book_it_once(race, trials, status):
    pilot = race.open()
    for trial in range(trials):
        # Given a paid order and a goodwill refund of part of it, recorded, not yet made
        start_trial(race, trial)
        order = paid(pilot, trial)
        key = goodwill_refund_recorded(pilot, order)
        # When the refund is made (the provider answers `status`) as the provider's notice
        # of it (the payment's refunded total: that refund) arrives
        made, notice = race.run(
            ("execute_refund", {"key": key, "status": status}),
            ("provider_refunded", {"order_id": order.id, "payment_ref": f"alipay-{trial}",
                                   "total": GOODWILL, "at": race.now().isoformat()}))
        assert made.ok and notice.ok, (trial, made, notice)
        # Then the provider refunded once and the store books it once: on the order, in
        # the ledger, and the operation succeeded
        final = pilot.orders.get(order.id)
        ledger = booked_refunds(pilot, order.id)
        op = money.get(pilot.context, key)
        assert (final.refunded, ledger, op.status.value) == (GOODWILL, GOODWILL,
                                                             "succeeded"), \
            (trial, final.refunded, ledger, op.status, made, notice)
        race.check([order.id])
