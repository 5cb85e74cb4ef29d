"""A return case's amount due is what it asked for less what the claims on its own return
parcels refunded already. Before, a case whose units came back in two parcels, one of them
lost, refunded by default its whole requested amount after the loss had refunded that parcel's
units: the lost units twice (a ¥88 tea refunded by its claim and again by the case), or, every
unit returned, a refund refused by "refunded ≤ paid" until staff typed `amount=`."""

from __future__ import annotations

import pytest

from integrations.service.money_refunds import refund_case
from statemachine.errors import GuardRejected
from tests.factories import order_request, stock
from tests.integration.fulfil.test_case_replacement_goods import (
    HANGZHOU,
    PRICE,
    shipped_split_order,
)

TEA = 8_800  # ¥88.00 a tin of 龙井


def mugs_and_tea_delivered(shop):
    """2 mugs (¥129, WH-A) and 1 tin of tea (¥88, WH-C) paid, shipped in two parcels, delivered."""
    stock(shop, "SKU-MUG", "WH-A", 2)
    stock(shop, "SKU-TEA", "WH-C", 1)
    request = order_request(sku="SKU-MUG", quantity=2, unit_price=PRICE,
                            shipping_address=dict(HANGZHOU))
    request["lines"].append({"sku": "SKU-TEA", "quantity": 1, "unit_price": TEA})
    order = shop.orders.place(**request)
    shop.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"wxpay-{order.id}")
    for trigger in ("start_picking", "pack", "ship"):
        shop.orders.fire(order.id, trigger)
    for parcel in shop.shipments.of_order(order.id):
        for trigger in ("pick_up", "scan", "deliver"):
            shop.shipments.fire(parcel.id, trigger)
    assert shop.orders.get(order.id).state == "delivered"
    return order


def return_sent(shop, order_id: str, lines: list[dict[str, int]]) -> tuple[str, list]:
    """The buyer returns `lines`; the return parcels (by warehouse) are with the carrier."""
    case = shop.cases.open(order_id, kind="return_refund", reason="七天无理由退货", lines=lines)
    for trigger in ("auto_approve", "await_return"):
        shop.cases.fire(case.id, trigger)
    parcels = sorted((s for s in shop.shipments.of_order(order_id) if s.case_id == case.id),
                     key=lambda s: s.warehouse)
    for parcel in parcels:
        shop.shipments.fire(parcel.id, "pick_up", location="杭州转运中心")
    return case.id, parcels


def arrives(shop, parcel_id: str) -> None:
    for trigger in ("scan", "deliver"):
        shop.shipments.fire(parcel_id, trigger)


def test_a_case_refunds_by_default_only_what_its_lost_return_parcels_claim_did_not(shop):
    # Given 2 mugs and a tin of tea delivered, and 1 mug + the tea on their way back
    order = mugs_and_tea_delivered(shop)
    case_id, (back_a, back_c) = return_sent(shop, order.id, [{"line_no": 1, "quantity": 1},
                                                             {"line_no": 2, "quantity": 1}])
    assert (back_a.warehouse, back_c.warehouse) == ("WH-A", "WH-C")
    # When the tea's parcel is lost: its claim refunds the tea
    claim = shop.claims.report_lost(back_c.id, reason="中通确认退货丢件")
    assert claim["compensated"] == TEA
    # And the mug arrives, is inspected and the case refunded without an amount
    arrives(shop, back_a.id)
    shop.cases.fire(case_id, "inspect", result="ok", notes="包装完好", actor="wh-zhao")
    refunded = shop.cases.fire(case_id, "refund", actor="cs-wang")
    # Then the case pays the mug only: the tea is not refunded a second time
    assert (refunded.state, refunded.refunded) == ("refunded", PRICE)
    after = shop.orders.get(order.id)
    assert (after.refunded, after.paid) == (PRICE + TEA, 2 * PRICE + TEA)


def test_a_case_whose_every_unit_came_back_or_was_lost_refunds_the_rest_by_default(shop):
    # Given a split order (WH-A 2 tees, WH-C 1) delivered, and all 3 on their way back
    order, parcels = shipped_split_order(shop)
    for parcel in parcels:
        arrives(shop, parcel.id)
    case_id, (back_a, back_c) = return_sent(shop, order.id, [{"line_no": 1, "quantity": 3}])
    # When WH-C's return parcel is lost, and WH-A's arrives and is inspected
    shop.claims.report_lost(back_c.id, reason="顺丰确认丢件")
    arrives(shop, back_a.id)
    shop.cases.fire(case_id, "inspect", result="ok", notes="吊牌完好", actor="wh-zhao")
    # Then asking more than is due is refused, naming what the claim refunded
    with pytest.raises(GuardRejected, match=f"between 1 and {2 * PRICE}.*{PRICE} refunded"):
        shop.cases.fire(case_id, "refund", amount=3 * PRICE)
    # And the default refund pays the two tees that came back: all that was paid, once
    assert shop.cases.fire(case_id, "refund").refunded == 2 * PRICE
    after = shop.orders.get(order.id)
    assert (after.refunded, after.paid, after.payment_status) == (3 * PRICE, 3 * PRICE,
                                                                  "refunded")


def test_a_case_refund_through_the_provider_pays_the_amount_due(shop):
    # Given the mug and the tea on their way back, the tea's parcel lost and refunded
    order = mugs_and_tea_delivered(shop)
    case_id, (back_a, back_c) = return_sent(shop, order.id, [{"line_no": 1, "quantity": 1},
                                                             {"line_no": 2, "quantity": 1}])
    shop.claims.report_lost(back_c.id, reason="中通确认退货丢件")
    arrives(shop, back_a.id)
    shop.cases.fire(case_id, "inspect", result="ok", notes="包装完好", actor="wh-zhao")
    # When finance refunds the case through the payment provider, without an amount
    operation = refund_case(shop.context, int(case_id[2:]), "finance:li")
    # Then the provider pays the mug only and the case is settled by it
    assert (operation.status, operation.amount) == ("succeeded", PRICE)
    assert shop.cases.get(case_id).state == "refunded"
    assert shop.orders.get(order.id).refunded == PRICE + TEA
