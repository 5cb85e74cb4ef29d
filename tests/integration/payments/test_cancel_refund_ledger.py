"""A paid order cancelled: its refund (the console's settle-cancel job) is in the ledger, so
the provider's own refund notification books nothing twice and the day reconciles."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from integrations.carriers.simulated import AdoptingCarrier
from integrations.console.jobs import Ports, settle_cancel
from integrations.db.money_store import MoneyStore
from integrations.db.records import payments_of
from integrations.ingest.money_events import apply_money_event
from integrations.payments.simulated import AdoptingGateway
from integrations.service import reconciliation
from integrations.service.checkout import capture_order
from orderpilot import ManualClock, OrderPilot
from statemachine.ports import CarrierProfile, MoneyEvent
from statemachine.risk_port import approve_everything
from tests.integration.orchestration.shop import START, place


def test_a_cancel_refund_is_booked_once_and_the_providers_notice_changes_nothing(
        tmp_path: Path):
    # Given an order of 2 × ¥30.00 paid through the gateway, then cancelled by the buyer
    clock = ManualClock(START)
    gateway = AdoptingGateway(now=clock.now)
    pilot = OrderPilot(f"sqlite:///{tmp_path / 'shop.db'}", clock=clock,
                       risk_check=approve_everything, gateway=gateway)
    pilot.inventory.receive(sku="mug", warehouse="sh", quantity=10)
    order_id = place(pilot, buyer="b-4", quantity=2, price=3000)
    capture_order(pilot.context, int(order_id[2:]))
    pilot.orders.fire(order_id, "cancel", actor="buyer", reason="不想要了")
    payment_ref = pilot.orders.get(order_id).payment_ref
    ports = Ports(gateway=gateway, carrier=lambda n, c: AdoptingCarrier(CarrierProfile(n), c),
                  notify=lambda message: None, retry_delays=(0.01,))
    assert settle_cancel(pilot.context, ports, order_id) == "refunded"
    # Then the refund is in the ledger once, under the gateway's receipt
    with pilot.context.engine.connect() as connection:
        booked = [(r.kind, r.amount) for r in payments_of(connection, int(order_id[2:]))]
    assert booked == [("capture", 6000), ("refund", 6000)]
    # When the provider reports the payment refunded in full (its notification)
    now = pilot.clock.now()
    outcome, follow = apply_money_event(pilot.context, MoneyEvent(
        "simulated", "evt-refund-1", "refunded", payment_ref, 6000, "CNY", now,
        order_id=order_id))
    # Then nothing is booked twice and the order stays refunded once
    assert (outcome.status, outcome.body.get("note"), follow) == (
        200, "refunds already recorded", [])
    assert pilot.orders.get(order_id).refunded == 6000
    # And the day reconciles with the provider's books
    result = reconciliation.against_provider(pilot.context, now - timedelta(hours=1),
                                             now + timedelta(hours=1), gateway)
    assert (result.matched, result.differences) == (2, ()), result.differences
    pilot.close()


def test_the_cancel_refund_is_recorded_before_the_provider_is_called(tmp_path: Path):
    # Given a provider that looks at our store when asked to refund
    clock = ManualClock(START)
    seen: list[str | None] = []
    pilot: OrderPilot | None = None

    class Watching(AdoptingGateway):
        def refund(self, payment_ref, amount, *, idempotency_key, lines=(), currency=None):
            with pilot.context.tx(readonly=True) as tx:
                op = MoneyStore(tx.store.sql).by_key(idempotency_key)
            seen.append(op.status.value if op else None)
            return super().refund(payment_ref, amount, idempotency_key=idempotency_key,
                                  lines=lines, currency=currency)

    gateway = Watching(now=clock.now)
    pilot = OrderPilot(f"sqlite:///{tmp_path / 'shop.db'}", clock=clock,
                       risk_check=approve_everything, gateway=gateway)
    pilot.inventory.receive(sku="mug", warehouse="sh", quantity=10)
    order_id = place(pilot, buyer="b-5", quantity=1, price=3000)
    capture_order(pilot.context, int(order_id[2:]))
    pilot.orders.fire(order_id, "cancel", actor="buyer", reason="拍错了")
    ports = Ports(gateway=gateway, carrier=lambda n, c: AdoptingCarrier(CarrierProfile(n), c),
                  notify=lambda message: None, retry_delays=(0.01,))
    # When the settle-cancel job runs (twice)
    assert [settle_cancel(pilot.context, ports, order_id) for _ in range(2)] == [
        "refunded", "already settled"]
    # Then the provider was called once, with our pending record of it already committed
    assert seen == ["pending"]
    pilot.close()
