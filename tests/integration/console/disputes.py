"""A small named factory for dispute cases: a shipped tea order in Hangzhou that the buyer's
bank disputes, reported by the (simulated) provider with an evidence due date."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from integrations.ingest.money_events import apply_money_event
from integrations.payments.simulated import SimulatedGateway
from integrations.service.checkout import capture_order
from orderpilot import OrderPilot
from orderpilot.api_integrations import add_note
from statemachine.ports import MoneyEvent

ADDRESS = {"recipient": "张伟", "phone": "13987654321", "province": "浙江省",
           "city": "杭州市", "district": "西湖区", "street": "文三路 18 号"}
PRICE = 29_900


def disputed_order(pilot: OrderPilot, gateway: SimulatedGateway,
                   due_in: timedelta = timedelta(days=7)) -> tuple[str, str, str]:
    """(order id, dispute id, the provider's dispute ref) for a fresh shipped, disputed order."""
    pilot.inventory.receive(sku="TEA-LJ", warehouse="WH-HZ", quantity=1)
    order = pilot.orders.place(
        buyer_id="b-zhang", lines=[{"sku": "TEA-LJ", "quantity": 1, "unit_price": PRICE}],
        shipping_address=ADDRESS, currency="CNY")
    capture_order(pilot.context, int(order.id[2:]))
    for trigger in ("start_picking", "pack"):
        pilot.orders.fire(order.id, trigger)
    pilot.orders.fire(order.id, "ship", parcels=[{"carrier": "SF", "tracking_no": "SF1234567890"}])
    add_note(pilot, order.id, "张伟来电确认收到龙井茶，包装完好", by="cs:wangfang", kind="message")
    payment_ref = pilot.orders.get(order.id).payment_ref
    ref = gateway.open_dispute(payment_ref, PRICE, reason="product_not_received")
    now = pilot.clock.now()
    apply_money_event(pilot.context, MoneyEvent(
        "simulated", f"evt-{ref}", "dispute_opened", payment_ref, PRICE, "CNY", now,
        order_id=order.id, dispute_ref=ref, reason="product_not_received", due_by=now + due_in))
    [dispute] = [d for d in pilot.disputes.list() if d["provider_ref"] == ref]
    return order.id, dispute["id"], ref


class CountingGateway(SimulatedGateway):
    """The simulated provider, remembering every dispute call it was asked to make."""

    def __init__(self, **options: object):
        super().__init__(**options)  # type: ignore[arg-type]
        self.dispute_calls: list[tuple[str, str, str, dict[str, str]]] = []

    def submit_evidence(self, dispute_ref: str, evidence: Mapping[str, str], *,
                        idempotency_key: str) -> str:
        self.dispute_calls.append(("evidence", dispute_ref, idempotency_key, dict(evidence)))
        return super().submit_evidence(dispute_ref, evidence, idempotency_key=idempotency_key)

    def accept(self, dispute_ref: str, *, idempotency_key: str) -> str:
        self.dispute_calls.append(("accept", dispute_ref, idempotency_key, {}))
        return super().accept(dispute_ref, idempotency_key=idempotency_key)
