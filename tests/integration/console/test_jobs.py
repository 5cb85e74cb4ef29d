"""The console's automation jobs: settlements, refund triage and carrier chases happen once,
and a final failure reaches the staff without being retried."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from integrations.carriers.simulated import AdoptingCarrier
from integrations.console.jobs import (
    Ports,
    chase_stall,
    settle_cancel,
    settle_refund,
    triage_refund,
)
from integrations.db.repository import OUTBOX
from integrations.notify import deliver, notifier_from
from integrations.payments.simulated import AdoptingGateway
from integrations.service import refunds
from integrations.service.context import store_book
from statemachine.errors import OrderPilotError, SecretsUnavailable
from statemachine.ports import CarrierProfile, TransientPaymentError
from tests.factories import order_request
from tests.integration.orchestration.shop import Recorder, open_shop, place


class Declined(OrderPilotError):
    code = "payment_declined"


class FlakyGateway(AdoptingGateway):
    """Times out `failures` times, then refunds; or declines every refund for good."""

    def __init__(self, pilot: Any, failures: int = 0, decline: bool = False):
        super().__init__(book=store_book(pilot.context))  # the shop's own payments
        self.failures, self.decline, self.calls = failures, decline, 0

    def refund(self, payment_ref: str, amount: int, **kwargs: Any) -> Any:
        self.calls += 1
        if self.decline:
            raise Declined(f"refund of {amount} on {payment_ref} declined: card closed")
        if self.calls <= self.failures:
            raise TransientPaymentError("gateway timeout")
        return super().refund(payment_ref, amount, **kwargs)


def ports(pilot: Any, gateway: Any = None) -> Ports:
    return Ports(gateway=gateway or pilot.context.gateway,
                 carrier=lambda name, clock: AdoptingCarrier(CarrierProfile(name), clock),
                 notify=lambda message: deliver(notifier_from(), message),
                 retry_delays=(0.01, 0.01))


@pytest.fixture
def channel(monkeypatch: pytest.MonkeyPatch):
    """Apprise json:// channels for staff and buyers, on a real local HTTP server."""
    server = Recorder()
    url = f"json://127.0.0.1:{server.server.server_port}/{{}}"
    monkeypatch.setenv("ORDERPILOT_NOTIFY_ROUTES", json.dumps({  # the one notification setting
        "ops": [url.format("staff")], "reviewer": [url.format("staff")],
        "buyer": [url.format("buyer")]}))
    yield server
    server.close()


def signals(pilot: Any, like: str) -> list[str]:
    with pilot.context.tx(readonly=True) as tx:
        return [r.event for r in tx.connection.execute(
            select(OUTBOX.c.event).where(OUTBOX.c.event.like(like)))]


def cancelled_after_payment(tmp_path: Path) -> tuple[Any, str]:
    pilot = open_shop(str(tmp_path / "shop.db"))
    order_id = place(pilot, buyer="b-4", quantity=2, price=3000)
    pilot.orders.fire(order_id, "pay", amount=6000, payment_ref="alipay-2026-4")
    pilot.orders.fire(order_id, "cancel", actor="buyer", reason="不想要了")
    return pilot, order_id


def test_a_cancelled_paid_order_is_refunded_once_through_a_timeout_and_the_buyer_told(
        tmp_path: Path, channel: Recorder):
    # Given a paid order cancelled, and a gateway that times out once
    pilot, order_id = cancelled_after_payment(tmp_path)
    gateway = FlakyGateway(pilot, failures=1)
    # When the settlement job runs twice (a repeated event)
    outcomes = [settle_cancel(pilot.context, ports(pilot, gateway), order_id) for _ in range(2)]
    # Then it retried the timeout, refunded once, and told the buyer once
    assert outcomes == ["refunded", "already settled"] and gateway.calls == 2
    assert signals(pilot, "orderpilot.order.refund_%") == ["orderpilot.order.refund_settled"]
    assert [b["title"] for b in channel.bodies] == [f"Order {order_id} cancelled and refunded"]
    assert "¥60.00" in channel.bodies[0]["message"]


def test_a_declined_refund_is_recorded_and_the_staff_told_without_a_retry(
        tmp_path: Path, channel: Recorder):
    pilot, order_id = cancelled_after_payment(tmp_path)
    gateway = FlakyGateway(pilot, decline=True)
    assert settle_cancel(pilot.context, ports(pilot, gateway), order_id) == "failed"
    assert gateway.calls == 1
    assert signals(pilot, "orderpilot.order.refund_%") == ["orderpilot.order.refund_failed"]
    assert [b["title"] for b in channel.bodies] == [f"Refund for cancelled {order_id} failed"]


class LockedAway(AdoptingGateway):
    """A gateway whose credentials are kept in a Secret block the Prefect server cannot give
    (as DeferredGateway raises when it is first used with the server down)."""

    def refund(self, payment_ref: str, amount: int, **kwargs: Any) -> Any:
        raise SecretsUnavailable("stripe_api_key", "shop-stripe-key", "the Prefect server at "
                                 "http://127.0.0.1:4200/api", "it did not answer",
                                 "start that server")


def test_a_refund_whose_secrets_cannot_be_read_is_left_pending_for_the_sweep_not_failed(
        tmp_path: Path, channel: Recorder):
    from integrations.db.money_store import MoneyStore

    # Given a paid order cancelled, and the gateway's key in a block nobody can read now
    pilot, order_id = cancelled_after_payment(tmp_path)
    # When the settlement job runs
    outcome = settle_cancel(pilot.context, ports(pilot, LockedAway()), order_id)
    # Then the refund is pending, saying why (before: recorded as refused by the provider —
    # failed for good, the staff told "Refund … failed" — although it was never asked)
    assert outcome == ("refund pending: payment secrets unavailable (stripe_api_key in the "
                       "Prefect Secret block 'shop-stripe-key')")
    with pilot.context.tx(readonly=True) as tx:
        [op] = [o for o in MoneyStore(tx.store.sql).of_order(int(order_id[2:]))
                if o.kind.value == "refund"]
    assert op.status.value == "pending" and op.attempts == 1
    assert op.error.startswith("payment secrets unavailable: the payment setting stripe_api_key")
    assert channel.bodies == [] and signals(pilot, "orderpilot.order.refund_%") == []
    # And once the secrets can be read, the next run of the job pays it with its key
    assert settle_cancel(pilot.context, ports(pilot, FlakyGateway(pilot)), order_id) == \
        "refunded"
    assert pilot.orders.get(order_id).refunded == 6000


def shipped(pilot: Any) -> str:
    order_id = place(pilot, buyer="b-3")
    pilot.orders.fire(order_id, "pay", amount=2500, payment_ref="wxpay-3")
    for trigger in ("start_picking", "pack", "ship"):
        pilot.orders.fire(order_id, trigger)
    return order_id


def test_a_stall_episode_is_chased_once_even_when_it_is_also_marked_late(
        tmp_path: Path, channel: Recorder):
    # Given a shipped parcel the carrier never picks up
    pilot = open_shop(str(tmp_path / "shop.db"))
    order_id = shipped(pilot)
    assert pilot.sweep(pilot.clock.advance(hours=73))["pickup_due"] == 1
    # When the chase job runs, the parcel is then marked late, and the job runs again
    first = chase_stall(pilot.context, ports(pilot), "s-1")
    pilot.sweep(pilot.clock.advance(days=5))  # promised delivery passes while stalled
    again = chase_stall(pilot.context, ports(pilot), "s-1")
    # Then one chase and one apology for the episode
    assert first.startswith("chased: sim-express ticket") and again == "already chased"
    assert signals(pilot, "orderpilot.shipment.chased") == ["orderpilot.shipment.chased"]
    assert [b["title"] for b in channel.bodies] == [f"Your parcel {order_id}-1 is delayed"]
    # When a scan moves it and it goes silent again, the new episode is chased once more
    pilot.shipments.fire("s-1", "pick_up", location="上海转运中心")
    assert chase_stall(pilot.context, ports(pilot), "s-1").startswith("cleared")
    assert pilot.sweep(pilot.clock.advance(hours=25))["scan_silence"] == 1
    assert chase_stall(pilot.context, ports(pilot), "s-1").startswith("chased")
    assert len(signals(pilot, "orderpilot.shipment.chased")) == 2


def test_a_carriers_reason_quoting_a_phone_reaches_the_buyer_masked(
        tmp_path: Path, channel: Recorder):
    # Given a parcel the carrier stalled with its courier's mobile typed into the reason
    pilot = open_shop(str(tmp_path / "shop.db"))
    shipped(pilot)
    pilot.shipments.fire("s-1", "stall", reason="派送员 137-1234-5678 联系不上收件人")
    # When the chase job apologises to the buyer
    assert chase_stall(pilot.context, ports(pilot), "s-1").startswith("chased")
    # Then the apology quotes the reason with the number masked
    (apology,) = [b["message"] for b in channel.bodies]
    assert "联系不上收件人" in apology and "137****5678" in apology
    assert "1234" not in apology


def test_a_small_refund_request_is_approved_and_refunded_without_a_person(
        tmp_path: Path, channel: Recorder):
    # Given a returning buyer's delivered order and a small refund-only request
    pilot = open_shop(str(tmp_path / "shop.db"))
    earlier = place(pilot, buyer="b-3")  # not the buyer's first order: one paid before it
    pilot.orders.fire(earlier, "pay", amount=2500, payment_ref="wxpay-2")
    pilot.clock.advance(hours=1)  # "before" is by time: placed in the same instant is not
    order_id = shipped(pilot)
    pilot.shipments.fire("s-1", "pick_up", location="上海转运中心")
    pilot.shipments.fire("s-1", "deliver")
    case = pilot.cases.open(order_id, kind="refund_only", lines=[{"line_no": 1, "quantity": 1}],
                            reason="杯子有裂纹")
    # When triage and settlement run
    assert triage_refund(pilot.context, ports(pilot), case.id) == "approved at once"
    assert settle_refund(pilot.context, ports(pilot), case.id) == "refunded"
    # Then the order shows the refund
    assert pilot.orders.get(order_id).refunded == 2500


def test_a_refund_the_store_refuses_for_now_leaves_the_case_approved_and_tells_the_staff(
        tmp_path: Path, channel: Recorder):
    from integrations.service import money
    from statemachine.money import OperationKind

    # Given a returning buyer's ¥25 order with a goodwill refund of all of it in flight
    pilot = open_shop(str(tmp_path / "shop.db"))
    earlier = place(pilot, buyer="b-3")
    pilot.orders.fire(earlier, "pay", amount=2500, payment_ref="wxpay-2")
    pilot.clock.advance(hours=1)
    order_id = shipped(pilot)
    with pilot.context.tx() as tx:
        order = tx.store.get_order(int(order_id[2:]), lock=True)
        money.request(pilot.context, tx, order, OperationKind.REFUND, 2500,
                      f"refund:{order_id}:goodwill", "客服", reason="价保",
                      at=pilot.clock.now())
    case = pilot.cases.open(order_id, kind="refund_only", lines=[{"line_no": 1, "quantity": 1}],
                            reason="杯子有裂纹")
    assert triage_refund(pilot.context, ports(pilot), case.id) == "approved at once"
    # When the settle job runs on it
    outcome = settle_refund(pilot.context, ports(pilot), case.id)
    # Then it answers why nothing was paid (before: GuardRejected raised out of the job), the
    # case stays accepted — the refund in flight may still fail — and the staff are told
    assert outcome == ("auto_approved: not refunded: refund of 2500 exceeds what is left (0: "
                       "paid 2500, refunded 0, in flight 2500, disputed 0)")
    assert pilot.cases.get(case.id).state == "auto_approved"
    [told] = channel.bodies
    assert told["title"] == f"Refund of {case.id} not made"
    assert "in flight 2500" in told["message"] and f"case refund {case.id}" in told["message"]


def test_a_return_case_settled_by_another_console_meanwhile_answers_as_a_repeat(
        any_pilot, monkeypatch: pytest.MonkeyPatch):
    # Given a paid order and an approved return case on it
    any_pilot.inventory.receive(sku="SKU-MUG", warehouse="WH-1", quantity=2)
    order = any_pilot.orders.place(**order_request(sku="SKU-MUG", quantity=1))
    any_pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"p-{order.id}")
    case = any_pilot.cases.open(order.id, kind="return_refund", reason="七天无理由退货",
                                lines=[{"line_no": 1, "quantity": 1}])
    any_pilot.cases.fire(case.id, "auto_approve")
    # And another console settles it right after this one read it as approved
    read = refunds.get

    def read_then_another_console_settles(ctx: Any, case_id: int) -> Any:
        seen = read(ctx, case_id)
        monkeypatch.setattr(refunds, "get", read)
        settle_refund(ctx, ports(any_pilot), case.id)
        return seen

    monkeypatch.setattr(refunds, "get", read_then_another_console_settles)
    # When this console settles it: it gets what a repeated request gets (idempotent)
    assert settle_refund(any_pilot.context, ports(any_pilot), case.id) == "awaiting_return"
    assert settle_refund(any_pilot.context, ports(any_pilot), case.id) == "awaiting_return"
    # And one return label went out
    assert [s.purpose for s in any_pilot.shipments.of_order(order.id)
            if s.purpose == "return"] == ["return"]
