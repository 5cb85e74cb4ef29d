"""Late money reported through the Python API follows the shop's late-payment policy, and a
refused step names only steps a caller can take."""

from __future__ import annotations

import pytest

from orderpilot import OrderPilot
from statemachine.errors import GuardRejected, InvalidTransition
from statemachine.risk_port import approve_everything
from tests.factories import placed_order, stock

ADDRESS = {"line": "上海市浦东新区张江路88弄5号1201室", "recipient": "韩梅梅",
           "phone": "+86 139 1234 5678"}


def expired_order(pilot: OrderPilot, clock):  # noqa: ANN001
    stock(pilot)
    order = placed_order(pilot, quantity=1, unit_price=12_900, shipping_address=ADDRESS)
    clock.advance(minutes=31)
    pilot.sweep()
    assert pilot.orders.get(order.id).state == "expired"
    return order


def test_revive_is_refused_while_the_shop_refunds_late_money(any_url, clock):
    # Given the default policy (late money is refunded) and an order whose hold lapsed
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    order = expired_order(pilot, clock)
    # When the shop's code fires revive with the buyer's money
    with pytest.raises(GuardRejected, match="ORDERPILOT_LATE_PAYMENTS=refund"):
        pilot.orders.fire(order.id, "revive", amount=12_900, payment_ref="alipay-2026112822001")
    # Then nothing moved (before: the order was revived, paid, against the policy)
    after = pilot.orders.get(order.id)
    assert (after.state, after.paid) == ("expired", 0)
    pilot.close()


def test_revive_works_under_the_revive_policy(any_url, clock, monkeypatch):
    monkeypatch.setenv("ORDERPILOT_LATE_PAYMENTS", "revive")
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    order = expired_order(pilot, clock)
    revived = pilot.orders.fire(order.id, "revive", amount=12_900,
                                payment_ref="alipay-2026112822002")
    assert (revived.state, revived.paid) == ("paid", 12_900)
    pilot.close()


def test_paying_a_cancelled_order_names_no_internal_step(any_url, clock):
    # Given a cancelled order
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    stock(pilot)
    order = placed_order(pilot, quantity=1, unit_price=12_900, shipping_address=ADDRESS)
    pilot.orders.fire(order.id, "cancel", reason="买错了")
    # When the shop's code fires pay on it, the refusal offers nothing a caller cannot fire
    # (before: "allowed: refund", a step only after-sales and cancellations take)
    with pytest.raises(InvalidTransition) as refused:
        pilot.orders.fire(order.id, "pay", amount=12_900, payment_ref="wx-4200001")
    assert refused.value.allowed == []
    assert str(refused.value).endswith("cannot pay from cancelled; allowed: none by a caller")
    pilot.close()
