"""A case refund recorded and not yet paid when the buyer cancels the order: the cancellation
pays back the rest, the case refund settles into the cancelled order, and the provider pays
back what was paid, once. (The interleaving the race in tests/integration/races/
test_cancel_refund_races.py meets, step by step.)"""

from __future__ import annotations

from integrations.console.jobs import Ports, settle_cancel
from integrations.payments.simulated import SimulatedGateway
from integrations.service import money, money_refunds
from integrations.service.checkout import capture_order
from orderpilot import OrderPilot
from statemachine.risk_port import approve_everything
from tests.factories import placed_order, stock


def test_a_refund_in_flight_at_cancel_is_paid_once_and_booked(any_url, clock):
    # Given an order of two ¥35 cups paid through the provider, and a refund-only case for
    # one cup approved, its refund recorded (in flight) but not yet made
    gateway = SimulatedGateway(now=clock.now)
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything, gateway=gateway)
    stock(pilot, quantity=5)
    order = placed_order(pilot, quantity=2, unit_price=3_500)
    capture_order(pilot.context, int(order.id[2:]))
    case = pilot.cases.open(order.id, kind="refund_only", reason="杯口有缺口",
                            lines=[{"line_no": 1, "quantity": 1}])
    pilot.cases.fire(case.id, "auto_approve")
    with pilot.context.tx() as tx:
        locked = tx.store.get_order(int(order.id[2:]), lock=True)
        key = money_refunds.request_case_refund(pilot.context, tx, locked,
                                                tx.store.get_case(int(case.id[2:])), "cs",
                                                at=pilot.clock.now()).key
    # When the buyer cancels, the case's refund is made, and the console settles the cancel
    cancelled = pilot.orders.fire(order.id, "cancel", reason="买家不要了")
    made = money.execute(pilot.context, key, pilot.clock.now())
    told = []
    settled = settle_cancel(pilot.context, Ports(gateway, carrier=None, notify=told.append),
                            order.id)
    # Then the cancellation counted only the rest (before: all ¥70, and the case's ¥35 paid
    # by the provider could not be booked — GuardRejected at every retry — while the
    # cancellation's ¥70 was refused by the provider: the buyer got ¥35 back of ¥70)
    assert (cancelled.refunded, made.status.value, settled) == (3_500, "succeeded", "refunded")
    refunds = [-r.amount for r in gateway.books if r.kind == "refund"]
    assert sorted(refunds) == [3_500, 3_500]
    final = pilot.orders.get(order.id)
    assert (final.state, final.paid, final.refunded) == ("cancelled", 7_000, 7_000)
    assert pilot.cases.get(case.id).state == "refunded"
    with pilot.context.tx(readonly=True) as tx:
        ledger = tx.store.sql.all("SELECT kind, amount FROM payment_records WHERE order_id = :o "
                                  "AND kind = 'refund' ORDER BY id", {"o": int(order.id[2:])})
    assert [tuple(r) for r in ledger] == [("refund", 3_500), ("refund", 3_500)]
    pilot.close()
