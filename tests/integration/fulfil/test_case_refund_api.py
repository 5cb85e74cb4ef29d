"""`pilot.cases.refund`: a case's refund paid through the payment provider from the Python API
(the console's settle job and `orderpilot case refund` do the same), as against
`cases.fire(case, "refund")`, which only records a refund made elsewhere. Both stores."""

from __future__ import annotations

import pytest

from integrations.payments.simulated import SimulatedGateway
from orderpilot import OrderPilot
from statemachine.ports import PermanentPaymentError
from statemachine.risk_port import approve_everything
from tests.integration.fulfil.conftest import make_pilot
from tests.integration.fulfil.test_lost_return_parcels import delivered_order, return_sent


def inspected_return(shop: OrderPilot) -> tuple[str, str]:
    """One of 2 mugs (¥129 each) returned (its parcel's delivery receives it), inspected ok."""
    order = delivered_order(shop)
    case_id, [back] = return_sent(shop, order.id)
    shop.shipments.fire(back.id, "deliver")
    assert shop.cases.get(case_id).state == "received"
    shop.cases.fire(case_id, "inspect", actor="ops:wang", result="ok")
    return order.id, case_id


def money_rows(shop: OrderPilot) -> tuple[list[tuple], list[tuple]]:
    with shop.context.tx(readonly=True) as tx:
        ops = tx.store.sql.all("SELECT kind, status, amount FROM payment_operations", {})
        ledger = tx.store.sql.all("SELECT kind, amount FROM payment_records", {})
    return [tuple(r) for r in ops], [tuple(r) for r in ledger]


def test_a_case_refunded_from_the_api_is_paid_through_the_provider(any_url, clock):
    shop = make_pilot(any_url, clock)
    order_id, case_id = inspected_return(shop)
    # When finance refunds the inspected return from the Python API
    case = shop.cases.refund(case_id, by="finance:li")
    # Then the provider was asked and paid (an operation and its ledger row), and the case and
    # the order count the ¥129 once
    assert (case.state, case.refunded) == ("refunded", 12_900)
    assert shop.orders.get(order_id).refunded == 12_900
    assert money_rows(shop) == ([("refund", "succeeded", 12_900)], [("refund", 12_900)])
    assert [h.actor for h in shop.orders.history(order_id) if h.trigger == "refund"][-1:] == [
        "finance:li"]
    shop.close()


def test_a_case_refund_the_provider_refuses_is_an_error_and_counts_nothing(any_url, clock):
    seed = make_pilot(any_url, clock)
    order_id, case_id = inspected_return(seed)
    seed.close()
    # Given a provider that never saw the payment (it refuses any refund of it)
    shop = OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                      gateway=SimulatedGateway(now=clock.now))
    # When finance refunds the case from the Python API
    with pytest.raises(PermanentPaymentError, match="refused refund refund:" + case_id):
        shop.cases.refund(case_id, by="finance:li")
    # Then nothing is counted: the case waits as it was, the order refunded nothing, the
    # failed operation is on record and no money moved in the ledger
    case = shop.cases.get(case_id)
    assert (case.state, case.refunded) == ("inspected", 0)
    assert shop.orders.get(order_id).refunded == 0
    assert money_rows(shop) == ([("refund", "failed", 12_900)], [])
    shop.close()
