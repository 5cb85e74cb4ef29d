"""The velocity rule on a corrected address counts the other orders to it, not the order being
corrected: a correction that keeps the address (a new recipient, a reworded street) found the
order's own placement facts in the window and counted it as one more order there — an order
placement passed (4 earlier orders to the address) could not have its recipient corrected."""

from __future__ import annotations

from tests.factories import placed_order, stock
from tests.integration.risk.test_address_correction_rules import refused
from tests.integration.risk.test_address_corrections import ZHANGJIANG


def test_the_corrected_order_is_not_counted_among_the_orders_to_its_address(any_pilot, clock):
    # Given four orders of other buyers to 张江路88弄5号 in the hour, and b-1's order there,
    # which placement passed (4 earlier orders: the limit is 5)
    stock(any_pilot, quantity=100)
    for n in range(4):
        placed_order(any_pilot, buyer=f"b-drop-{n}", quantity=1, shipping_address=ZHANGJIANG)
        clock.advance(minutes=5)
    order = placed_order(any_pilot, buyer="b-1", quantity=1, shipping_address=ZHANGJIANG)
    assert any_pilot.orders.get(order.id).state == "awaiting_payment"
    clock.advance(minutes=1)
    # When ops correct who receives it, at the same address
    corrected = any_pilot.orders.correct_address(
        order.id, address={**ZHANGJIANG, "recipient": "王芳"}, by="ops:mei")
    # Then it is corrected (before: refused, "more than 5 orders in 3600 s by address")
    assert corrected.shipping_address["recipient"] == "王芳"
    # And a fifth other order there makes the address one placement would hold: refused
    placed_order(any_pilot, buyer="b-drop-4", quantity=1, shipping_address=ZHANGJIANG)
    problems = refused(any_pilot, order.id, {**ZHANGJIANG, "recipient": "李雷"})
    assert problems["address"].startswith("more than 5 orders in 3600 s by address")
