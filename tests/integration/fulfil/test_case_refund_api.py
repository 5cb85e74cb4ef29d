"""`pilot.cases.refund`: a case's refund paid through the payment provider from the Python API
(the console's settle job and `orderpilot case refund` do the same), as against
`cases.fire(case, "refund")`, which only records a refund made elsewhere. It returns the
payment operation's status (succeeded / pending / refused) with the case: before, the case
alone, and a caller (the CLI) guessed "pending" from the case's refunded total. Both stores."""

from __future__ import annotations

from typing import Any

from integrations.payments.simulated import AdoptingGateway, SimulatedGateway
from orderpilot import OrderPilot
from statemachine.ports import TransientPaymentError
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


def paying_through(url: str, clock: Any, gateway: Any) -> tuple[OrderPilot, str, str]:
    """A pilot paying through `gateway`, and the order and case of an inspected return."""
    seed = make_pilot(url, clock)
    order_id, case_id = inspected_return(seed)
    seed.close()
    return OrderPilot(url, clock=clock, risk_check=approve_everything, gateway=gateway), \
        order_id, case_id


def money_rows(shop: OrderPilot) -> tuple[list[tuple], list[tuple]]:
    with shop.context.tx(readonly=True) as tx:
        ops = tx.store.sql.all("SELECT kind, status, amount FROM payment_operations", {})
        ledger = tx.store.sql.all("SELECT kind, amount FROM payment_records", {})
    return [tuple(r) for r in ops], [tuple(r) for r in ledger]


def test_a_case_refunded_from_the_api_is_paid_through_the_provider(any_url, clock):
    shop = make_pilot(any_url, clock)
    order_id, case_id = inspected_return(shop)
    # When finance refunds the inspected return from the Python API
    done = shop.cases.refund(case_id, by="finance:li")
    # Then the provider was asked and paid (an operation and its ledger row), and the case and
    # the order count the ¥129 once
    assert (done.status, done.amount, done.currency, done.refund, done.error) == (
        "succeeded", 12_900, "CNY", f"refund:{case_id}", None)
    assert (done.case.id, done.case.state, done.case.refunded) == (case_id, "refunded", 12_900)
    assert shop.orders.get(order_id).refunded == 12_900
    assert money_rows(shop) == ([("refund", "succeeded", 12_900)], [("refund", 12_900)])
    assert [h.actor for h in shop.orders.history(order_id) if h.trigger == "refund"][-1:] == [
        "finance:li"]
    shop.close()


def test_a_case_refund_the_provider_refuses_says_so_and_counts_nothing(any_url, clock):
    # Given a provider that never saw the payment (it refuses any refund of it)
    shop, order_id, case_id = paying_through(any_url, clock, SimulatedGateway(now=clock.now))
    # When finance refunds the case from the Python API
    done = shop.cases.refund(case_id, by="finance:li")
    # Then the answer says the provider refused it, and why (before: PermanentPaymentError)
    assert (done.status, done.refund, done.amount) == ("refused", f"refund:{case_id}", 12_900)
    assert "no payment" in (done.error or "")
    assert (done.case.state, done.case.refunded) == ("inspected", 0)
    # And nothing is counted: the case waits as it was, the order refunded nothing, the
    # failed operation is on record and no money moved in the ledger
    case = shop.cases.get(case_id)
    assert (case.state, case.refunded) == ("inspected", 0)
    assert shop.orders.get(order_id).refunded == 0
    assert money_rows(shop) == ([("refund", "failed", 12_900)], [])
    shop.close()


class Unreachable(AdoptingGateway):
    """The shop's provider, timing out on every refund (the money sweep retries it)."""

    def refund(self, payment_ref: str, amount: int, **kw: Any) -> Any:
        raise TransientPaymentError("gateway timeout")


def test_a_case_refund_left_pending_at_the_provider_says_so_and_counts_it_later(any_url,
                                                                              clock):
    # Given a provider that does not answer
    shop, order_id, case_id = paying_through(any_url, clock, Unreachable(now=clock.now))
    # When finance refunds the case from the Python API
    done = shop.cases.refund(case_id, by="finance:li")
    # Then the answer says the refund is pending, and why (before: TransientPaymentError,
    # though the refund was recorded and the money sweep would make it)
    assert (done.status, done.amount, done.currency, done.error) == (
        "pending", 12_900, "CNY", "gateway timeout")
    assert (done.case.state, done.case.refunded) == ("inspected", 0)
    assert money_rows(shop) == ([("refund", "pending", 12_900)], [])
    shop.close()
    # And once the provider answers, the money sweep pays it and the case counts it
    shop = make_pilot(any_url, clock)
    clock.advance(minutes=10)
    shop.payments.sweep()
    assert shop.cases.get(case_id).refunded == 12_900
    assert shop.orders.get(order_id).refunded == 12_900
    shop.close()
