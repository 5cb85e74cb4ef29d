"""A case's refund settles the case's units whatever its amount: the full amount due, or a
partial amount agreed with the buyer, paid by amount at the provider. The units are reserved
while the refund is in flight and marked refunded when it is booked, on every path.

Before, a partial refund through the provider (`refund_case(amount=...)`) recorded no units:
while it was in flight a second case on the same mugs was refunded by lines, and when the
first was booked (marking the case's units) the second could not be: the provider had paid
¥129 that the store refused to record ("line 1 was already refunded")."""

from __future__ import annotations

import pytest

from integrations.replay import bulk
from integrations.service import money
from integrations.service.money_refunds import refund_case
from statemachine.errors import GuardRejected
from statemachine.ports import TransientPaymentError
from tests.factories import opened_before_one_case_per_unit, order_request, stock
from tests.integration.fulfil.test_case_replacement_goods import HANGZHOU, PRICE
from tests.integration.fulfil.test_lost_return_parcels import delivered_order

PARTIAL = 5_000  # ¥50 back for a chipped rim: the buyer keeps the mugs


def refunded_units(shop, order_id: str) -> list[int]:
    return [line.refunded_quantity for line in shop.orders.get(order_id).lines]


def approved_refund_only(shop, order_id: str, quantity: int, reason: str) -> str:
    case = shop.cases.open(order_id, kind="refund_only", reason=reason,
                           lines=[{"line_no": 1, "quantity": quantity}])
    for trigger in ("review", "approve"):
        shop.cases.fire(case.id, trigger, actor="cs-wang")
    return case.id


def number(case_id: str) -> int:
    return int(case_id[2:])


def test_a_partial_refund_in_flight_keeps_its_units_from_another_cases_refund(shop):
    # Given 2 mugs (¥129, CNY) delivered to Hangzhou and a refund-only case on both
    order = delivered_order(shop)
    first = approved_refund_only(shop, order.id, 2, "杯口有磕碰")
    # And a partial refund of ¥50 through the provider, in flight (the provider timed out)
    shop.context.gateway.transient_rate = 1.0
    with pytest.raises(TransientPaymentError):
        refund_case(shop.context, number(first), "cs-wang", amount=PARTIAL)
    # When a second case on one of the same mugs (opened before one open case per unit was
    # the rule) asks for its refund meanwhile
    with opened_before_one_case_per_unit():
        second = approved_refund_only(shop, order.id, 1, "另一只也有裂纹")
    # Then it is refused before any money moves: the mugs are the first refund's
    with pytest.raises(GuardRejected, match=r"line 1: 1 to refund but only 0 left "
                                            r"\(refunded or in flight\)"):
        refund_case(shop.context, number(second), "cs-li")
    # When the first refund goes through, by amount
    shop.context.gateway.transient_rate = 0.0
    operation = money.execute(shop.context, f"refund:{first}", shop.clock.now())
    assert (operation.status, operation.amount) == ("succeeded", PARTIAL)
    assert [(ln.line_no, ln.quantity) for ln in operation.lines] == [(1, 2)]
    # Then the case is refunded ¥50 and settles both mugs; the order shows ¥50 back
    assert (shop.cases.get(first).state, shop.cases.get(first).refunded) == ("refunded",
                                                                            PARTIAL)
    assert refunded_units(shop, order.id) == [2]
    assert shop.orders.get(order.id).refunded == PARTIAL


def test_a_partial_refund_settles_the_cases_units_on_every_path(shop):
    # Given 2 mugs delivered and a refund-only case on one, refunded ¥50 by the step itself
    order = delivered_order(shop)
    recorded = approved_refund_only(shop, order.id, 1, "杯口有磕碰")
    shop.cases.fire(recorded, "refund", amount=PARTIAL, actor="cs-wang")
    assert refunded_units(shop, order.id) == [1]
    # And a case on the other mug refunded ¥50 through the provider
    paid = approved_refund_only(shop, order.id, 1, "把手松动")
    operation = refund_case(shop.context, number(paid), "cs-wang", amount=PARTIAL)
    assert operation.status == "succeeded"
    # Then both mugs are settled: no case can be opened on them again
    assert refunded_units(shop, order.id) == [2]
    assert shop.orders.get(order.id).refunded == 2 * PARTIAL


def test_a_refund_booked_after_its_case_closed_still_settles_its_units(shop):
    # Given a refund-only case on both mugs whose ¥50 refund is in flight
    order = delivered_order(shop)
    case_id = approved_refund_only(shop, order.id, 2, "杯口有磕碰")
    shop.context.gateway.transient_rate = 1.0
    with pytest.raises(TransientPaymentError):
        refund_case(shop.context, number(case_id), "cs-wang", amount=PARTIAL)
    # When the case is closed meanwhile and the refund then goes through
    shop.cases.fire(case_id, "close", reason="买家已同意部分退款", actor="cs-wang")
    shop.context.gateway.transient_rate = 0.0
    money.execute(shop.context, f"refund:{case_id}", shop.clock.now())
    # Then the order books the ¥50 and the units it paid for are settled
    assert shop.orders.get(order.id).refunded == PARTIAL
    assert refunded_units(shop, order.id) == [2]


TEA_SET = 20_000  # ¥200.00: the order has money left once the tea is refunded


def tea_and_tea_set_delivered(shop):
    """2 tins of tea (¥129) and a tea set delivered to Hangzhou, paid in CNY."""
    stock(shop, "SKU-TEA", "WH-A", 2)
    stock(shop, "SKU-TEASET", "WH-A", 1)
    request = order_request(sku="SKU-TEA", quantity=2, unit_price=PRICE,
                            shipping_address=dict(HANGZHOU))
    request["lines"].append({"sku": "SKU-TEASET", "quantity": 1, "unit_price": TEA_SET})
    order = shop.orders.place(**request)
    shop.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"alipay-{order.id}")
    for trigger in ("start_picking", "pack", "ship"):
        shop.orders.fire(order.id, trigger)
    [parcel] = shop.shipments.of_order(order.id)
    for trigger in ("pick_up", "scan", "deliver"):
        shop.shipments.fire(parcel.id, trigger)
    return order


def test_a_case_whose_units_another_case_refunded_is_refused_by_its_refund_step(shop, clock):
    # Given 2 tins of tea and a tea set delivered, a case on both tins and one on one tin
    # (opened before one open case per unit was the rule: stores still hold such cases)
    order = tea_and_tea_set_delivered(shop)
    both = approved_refund_only(shop, order.id, 2, "茶叶受潮")
    with opened_before_one_case_per_unit():
        one = approved_refund_only(shop, order.id, 1, "一罐茶叶受潮")
    # When the first is refunded (both tins), the order still has the tea set's money left
    shop.cases.fire(both, "refund", actor="cs-wang")
    # Then the second case's refund is refused by its step, naming the line, nothing written
    with pytest.raises(GuardRejected, match=r"from approved: its units were refunded already"
                                            r".*line 1: 1 unit\(s\) to settle, 0 not refunded"):
        shop.cases.fire(one, "refund", actor="cs-wang")
    assert shop.cases.get(one).state == "approved"
    assert shop.orders.get(order.id).refunded == 2 * PRICE
    # And on the bulk path (a replay batch) it is one refused move, not a failed batch
    with shop.context.tx() as tx:
        [refused] = bulk.fire_cases(shop.context, tx, [bulk.Move(number(one), "refund",
                                                                 clock.now(), "replay")])
    assert "its units were refunded already" in refused.error
    assert refused.state == "approved"
