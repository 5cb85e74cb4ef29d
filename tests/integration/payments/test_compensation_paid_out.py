"""A lost parcel's compensation moves money at the provider, recorded first with a key of our
own, settled once, in the ledger — and the day's books agree. Both stores."""

from __future__ import annotations

from datetime import timedelta

import pytest

from integrations.db.money_store import MoneyStore
from integrations.payments.simulated import SimulatedGateway
from integrations.service import reconciliation
from integrations.service.checkout import capture_order
from orderpilot import OrderPilot
from statemachine.errors import GuardRejected
from statemachine.risk_port import approve_everything
from tests.factories import placed_order, stock


def test_a_lost_parcel_is_refunded_at_the_provider_once_with_our_key(any_url, clock):
    # Given an order of 2 × 19.99 paid through the provider and shipped
    gateway = SimulatedGateway(now=clock.now)
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything, gateway=gateway)
    stock(pilot, quantity=5)
    order = placed_order(pilot, quantity=2)
    capture_order(pilot.context, int(order.id[2:]))
    for trigger in ("start_picking", "pack", "ship"):
        pilot.orders.fire(order.id, trigger)
    assert pilot.orders.get(order.id).paid == 3998
    [parcel] = pilot.shipments.of_order(order.id)
    pilot.shipments.fire(parcel.id, "pick_up", location="杭州转运中心")
    # When the carrier confirms the loss, and the message comes again
    claim = pilot.claims.report_lost(parcel.id, reason="顺丰: 分拣中心遗失")
    with pytest.raises(GuardRejected, match="already settled"):
        pilot.claims.report_lost(parcel.id, reason="顺丰: 分拣中心遗失")
    # Then the provider refunded the goods once, under a key derived from our ids
    refunds = [r for r in gateway.books if r.kind == "refund"]
    assert [r.amount for r in refunds] == [-3998]
    with pilot.context.tx(readonly=True) as tx:
        [operation] = [op for op in MoneyStore(tx.store.sql).of_order(int(order.id[2:]))
                       if op.kind == "refund"]
    assert (operation.status, operation.amount, operation.provider_ref) == (
        "succeeded", 3998, refunds[0].ref)
    assert claim["compensated"] == 3998 and pilot.orders.get(order.id).refunded == 3998
    # And the day's books agree with the provider's
    now = clock.now()
    result = reconciliation.against_provider(pilot.context, now - timedelta(hours=1),
                                             now + timedelta(hours=1))
    assert (result.matched, result.differences) == (2, ())
    pilot.close()
