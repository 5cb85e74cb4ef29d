"""Units a parcel claim refunds are refunded on the order's lines: the buyer cannot open an
after-sales case on goods already paid back. Before, a lost (or returned) parcel's refund left
its units unmarked, so a case could be opened on them again — its money capped by refunded ≤
paid, but a case on goods the buyer had their money back for."""

from __future__ import annotations

import pytest

from statemachine.errors import InvalidInput
from tests.integration.fulfil.test_case_replacement_goods import PRICE, shipped_split_order
from tests.integration.fulfil.test_lost_return_parcels import delivered_order, return_sent


def refunded_units(shop, order_id: str) -> list[int]:
    return [line.refunded_quantity for line in shop.orders.get(order_id).lines]


def test_a_lost_parcels_refunded_units_cannot_be_claimed_again_by_a_case(shop):
    # Given 3 tees (¥129, CNY) shipped from WH-A (2) and WH-C (1) to Hangzhou
    order, (wh_a, wh_c) = shipped_split_order(shop)
    # When WH-C's parcel is lost and its tee refunded, and WH-A's is delivered
    claim = shop.claims.report_lost(wh_c.id, reason="顺丰确认丢件", settle="refund")
    assert (claim["compensation"], claim["compensated"]) == ("refund", PRICE)
    for trigger in ("scan", "deliver"):
        shop.shipments.fire(wh_a.id, trigger)
    # Then the lost tee is refunded on its line
    assert refunded_units(shop, order.id) == [1]
    # And a return of all 3 tees is refused, naming the line and what is left
    with pytest.raises(InvalidInput, match=r"lines\[0\]\.quantity: at most 2: line 1 has 2 of "
                                           r"its 3 units left.*1 refunded already") as refused:
        shop.cases.open(order.id, kind="return_refund", reason="七天无理由退货",
                        lines=[{"line_no": 1, "quantity": 3}])
    assert "got 3" in str(refused.value)
    # And the two tees the buyer has can still be returned
    case = shop.cases.open(order.id, kind="return_refund", reason="七天无理由退货",
                           lines=[{"line_no": 1, "quantity": 2}])
    assert case.requested_amount == 2 * PRICE


def test_a_lost_return_parcels_unit_cannot_be_returned_again(shop):
    # Given 2 mugs delivered and 1 of them on its way back in a return parcel
    order = delivered_order(shop)
    case_id, [back] = return_sent(shop, order.id)
    # When the carrier loses the return parcel: its claim refunds the mug, the case closes
    shop.claims.report_lost(back.id, reason="中通确认退货丢件")
    assert shop.cases.get(case_id).state == "closed"
    # Then that mug is refunded on its line: a new case can take only the other one
    assert refunded_units(shop, order.id) == [1]
    with pytest.raises(InvalidInput, match="at most 1: line 1 has 1 of its 2 units left"):
        shop.cases.open(order.id, kind="refund_only", reason="商品与描述不符",
                        lines=[{"line_no": 1, "quantity": 2}])
    assert shop.cases.open(order.id, kind="refund_only", reason="商品与描述不符",
                           lines=[{"line_no": 1, "quantity": 1}]).state == "requested"


def test_a_returned_parcel_refunded_marks_its_units_refunded(shop):
    # Given the split order, WH-C's parcel refused by the buyer and back with us, intact
    order, (wh_a, wh_c) = shipped_split_order(shop)
    shop.shipments.fire(wh_c.id, "return_to_sender", reason="收件人拒收")
    # When it is received and the buyer refunded
    claim = shop.claims.receive_return(wh_c.id, result="ok", settle="refund")
    assert claim["compensated"] == PRICE
    # Then its tee is refunded on the line: only WH-A's two are left for after-sales
    assert refunded_units(shop, order.id) == [1]


def test_a_case_refund_after_its_lost_return_parcel_settles_the_rest_of_its_units(shop):
    # Given the split order delivered and all 3 tees on their way back in two parcels
    order, parcels = shipped_split_order(shop)
    for parcel in parcels:
        for trigger in ("scan", "deliver"):
            shop.shipments.fire(parcel.id, trigger)
    case_id, (back_a, back_c) = return_sent(shop, order.id, quantity=3)
    # When WH-C's return parcel is lost (its claim refunds and marks 1 tee)
    shop.claims.report_lost(back_c.id, reason="顺丰确认丢件")
    assert refunded_units(shop, order.id) == [1]
    # And WH-A's arrives, is inspected and the case refunded
    for trigger in ("scan", "deliver"):
        shop.shipments.fire(back_a.id, trigger)
    shop.cases.fire(case_id, "inspect", result="ok", notes="包装完好", actor="wh-zhao")
    shop.cases.fire(case_id, "refund")
    # Then the case settles the other two: each tee refunded once, all that was paid
    assert refunded_units(shop, order.id) == [3]
    after = shop.orders.get(order.id)
    assert (after.refunded, after.paid) == (3 * PRICE, 3 * PRICE)


def test_a_lost_parcels_claim_leaves_units_a_case_refund_in_flight_settles(shop):
    # Given the split order in transit and a refund-only case on all 3 tees, its refund
    # recorded and not paid yet (in flight)
    from integrations.service import money, money_refunds
    from statemachine import ids

    order, (wh_a, wh_c) = shipped_split_order(shop)
    case = shop.cases.open(order.id, kind="refund_only", reason="不想要了",
                           lines=[{"line_no": 1, "quantity": 3}])
    shop.cases.fire(case.id, "auto_approve")
    with shop.context.tx() as tx:
        locked = tx.store.get_case(ids.CASE.parse(case.id), lock=True)
        key = money_refunds.request_case_refund(
            shop.context, tx, tx.store.get_order(locked.order_id, lock=True), locked, "t",
            at=shop.clock.now()).key
    # When WH-C's parcel is lost and settled by refund (which pays what is in flight)
    claim = shop.claims.report_lost(wh_c.id, reason="顺丰确认丢件", settle="refund")
    # Then the case's refund pays and books all 3 tees once; the claim pays nothing more.
    # Before: the claim marked the lost tee, the provider paid the case's 38700 and its
    # booking was refused (GuardRejected out of report_lost, the operation pending for ever)
    assert claim["compensated"] == 0
    assert money.get(shop.context, key).status.value == "succeeded"
    assert shop.cases.get(case.id).state == "refunded"
    assert (shop.orders.get(order.id).refunded, refunded_units(shop, order.id)) == (3 * PRICE, [3])
