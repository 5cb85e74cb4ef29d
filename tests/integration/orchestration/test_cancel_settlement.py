"""Cancel after payment: the money goes back once; a declined refund reaches the staff."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from integrations.db.repository import OUTBOX
from statemachine.errors import OrderPilotError
from tests.integration.orchestration.shop import Recorder, open_shop, place

pytestmark = pytest.mark.prefect


class Declined(OrderPilotError):
    code = "payment_declined"


class DecliningGateway:
    """A fake gateway that refuses every refund (a final, non-transient error)."""

    calls = 0

    def refund(self, payment_ref: str, amount: int, idempotency_key: str) -> Any:
        DecliningGateway.calls += 1
        raise Declined(f"refund of {amount} on {payment_ref} declined: card closed")


def _cancelled_after_payment(tmp_path: Path) -> tuple[Any, str, str]:
    pilot = open_shop(str(tmp_path / "shop.db"))
    order_id = place(pilot, buyer="b-4", quantity=2, price=3000)
    pilot.orders.fire(order_id, "pay", amount=6000, payment_ref="pay-4")
    pilot.orders.fire(order_id, "cancel", actor="buyer", reason="changed my mind")
    return pilot, order_id, f"sqlite:///{tmp_path / 'shop.db'}"


def _signals(pilot: Any) -> list[str]:
    with pilot.context.tx(readonly=True) as tx:
        return [r.event for r in tx.connection.execute(select(OUTBOX.c.event).where(
            OUTBOX.c.event.like("orderpilot.order.refund_%")))]


def _channel(monkeypatch: pytest.MonkeyPatch, audience: str) -> Recorder:
    channel = Recorder()
    monkeypatch.setenv(f"ORDERPILOT_NOTIFY_{audience.upper()}_URLS", json.dumps(
        [f"json://127.0.0.1:{channel.server.server_port}/{audience}"]))
    return channel


def test_a_cancelled_paid_order_is_refunded_once_and_the_buyer_told(
        tmp_path: Path, prefect_server: str, monkeypatch: pytest.MonkeyPatch):
    from flows.cancellation import cancel_settlement

    # Given an order paid, then cancelled (its stock already back on hand)
    buyer = _channel(monkeypatch, "buyer")
    pilot, order_id, url = _cancelled_after_payment(tmp_path)
    assert pilot.inventory.level(sku="mug", warehouse="sh").on_hand == 1000
    try:
        # When the settlement runs twice (a repeated event)
        outcomes = [cancel_settlement(order_id, database_url=url) for _ in range(2)]
    finally:
        buyer.close()
    # Then the refund went through once and the buyer heard about it once
    assert outcomes == ["refunded", "already settled"]
    assert _signals(pilot) == ["orderpilot.order.refund_settled"]
    assert [b["title"] for b in buyer.bodies] == [f"Order {order_id} cancelled and refunded"]


def test_a_declined_refund_is_recorded_and_escalated_without_retrying(
        tmp_path: Path, prefect_server: str, monkeypatch: pytest.MonkeyPatch):
    import flows.cancellation
    from flows.cancellation import cancel_settlement

    # Given a cancelled paid order and a gateway that declines
    staff = _channel(monkeypatch, "staff")
    monkeypatch.setattr(flows.cancellation, "payment_gateway", DecliningGateway)
    pilot, order_id, url = _cancelled_after_payment(tmp_path)
    try:
        # When the settlement runs, it fails with the gateway's reason
        with pytest.raises(Declined, match="card closed"):
            cancel_settlement(order_id, database_url=url)
    finally:
        staff.close()
    # Then the gateway was asked once (no retry of a final error) and the staff told
    assert DecliningGateway.calls == 1
    assert _signals(pilot) == ["orderpilot.order.refund_failed"]
    assert [b["title"] for b in staff.bodies] == [f"Refund for cancelled {order_id} failed"]
