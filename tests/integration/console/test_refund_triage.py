"""Refund triage on real stores: the auto-approve limit is per order, not per request, and a
new buyer's first order is the first one they paid and kept, placed earliest in time; a request
waiting for a person counts toward the limit."""

from __future__ import annotations

from datetime import timedelta

from integrations.service import refunds
from orderpilot import OrderPilot
from statemachine import ids
from tests.conftest import START
from tests.factories import delivered_order, paid_order, placed_order, stock

ADDRESS = {"line": "浙江省杭州市西湖区文三路18号3单元502室", "recipient": "李雷",
           "phone": "+86 138 0013 8000"}
LIMIT = "above the auto-approve limit ¥200.00"


def triage(pilot: OrderPilot, case) -> list[str]:  # noqa: ANN001
    """The console's triage job on a case: why a person must look (empty: approved)."""
    return refunds.triage(pilot.context, ids.CASE.parse(case.id))


def known_buyer(pilot: OrderPilot, clock, buyer: str = "b-8") -> None:  # noqa: ANN001
    """A buyer who paid for an order 40 days ago (not new, not this order's first)."""
    delivered_order(pilot, buyer=buyer, quantity=1, unit_price=3_900, shipping_address=ADDRESS)
    clock.advance(days=40)


def test_six_one_mug_requests_on_one_order_are_judged_together(any_url, clock):
    # Given a known buyer's delivered order of six mugs at ¥150 (¥900)
    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot, quantity=20)
    known_buyer(pilot, clock)
    order = delivered_order(pilot, buyer="b-8", quantity=6, unit_price=15_000,
                            shipping_address=ADDRESS)
    # When the buyer asks six refunds of one mug each, and triage runs on each as they come
    cases = [pilot.cases.open(order.id, kind="refund_only", lines=[{"line_no": 1, "quantity": 1}],
                              reason="杯子有裂纹") for _ in range(6)]
    first = triage(pilot, cases[0])
    assert refunds.settle(pilot.context, ids.CASE.parse(cases[0].id),
                          pilot.context.gateway) == "refunded"
    rest = [triage(pilot, case) for case in cases[1:]]
    # Then the first (¥150) is approved and refunded at once; the second would make ¥300 on
    # the order: it and the others go to a person (before: all six approved, ¥900 refunded
    # with no return and no one looking), each counted with those waiting for a person
    assert first == []
    assert rest == [[f"amount ¥150.00 (¥{150 * n}.00 with the order's other requests) {LIMIT}"]
                    for n in range(2, 7)]
    assert [pilot.cases.get(c.id).state for c in cases] == ["refunded"] + ["under_review"] * 5
    assert pilot.orders.get(order.id).refunded == 15_000
    pilot.close()


def test_a_request_granted_but_not_yet_refunded_counts_toward_the_limit(any_url, clock):
    # Given a known buyer's order of two ¥150 mugs, one already approved for a return (its
    # money not yet gone back)
    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot, quantity=20)
    known_buyer(pilot, clock)
    order = delivered_order(pilot, buyer="b-8", quantity=2, unit_price=15_000,
                            shipping_address=ADDRESS)
    returning = pilot.cases.open(order.id, kind="return_refund",
                                 lines=[{"line_no": 1, "quantity": 1}], reason="颜色不对")
    assert triage(pilot, returning) == []
    # When the buyer asks a refund of the other mug
    other = pilot.cases.open(order.id, kind="refund_only", lines=[{"line_no": 1, "quantity": 1}],
                             reason="杯子有裂纹")
    # Then a person looks at it
    assert triage(pilot, other) == [
        f"amount ¥150.00 (¥300.00 with the order's other requests) {LIMIT}"]
    pilot.close()


def test_a_later_order_does_not_make_a_new_buyer_known(any_url, clock):
    # Given a new buyer's first order, delivered, and a second order placed (never paid)
    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot, quantity=20)
    first = delivered_order(pilot, buyer="b-new", quantity=1, unit_price=9_900,
                            shipping_address=ADDRESS)
    placed_order(pilot, buyer="b-new", quantity=1, unit_price=100, shipping_address=ADDRESS)
    # When the buyer asks a refund on the first order
    case = pilot.cases.open(first.id, kind="refund_only", lines=[{"line_no": 1, "quantity": 1}],
                            reason="不想要了")
    # Then a person looks at it (before: two orders placed, so approved at once)
    assert triage(pilot, case) == [
        "first order of a new buyer asks for a refund"]
    pilot.close()


def test_a_buyers_second_paid_order_is_not_a_first_order(any_url, clock):
    # Given a new buyer (a week old) whose earlier order was paid
    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot, quantity=20)
    delivered_order(pilot, buyer="b-new", quantity=1, unit_price=3_900, shipping_address=ADDRESS)
    clock.advance(days=7)
    second = delivered_order(pilot, buyer="b-new", quantity=1, unit_price=9_900,
                             shipping_address=ADDRESS)
    # When the buyer asks a refund on the second order, it is approved at once
    case = pilot.cases.open(second.id, kind="refund_only",
                            lines=[{"line_no": 1, "quantity": 1}], reason="不想要了")
    assert triage(pilot, case) == []
    pilot.close()


def test_a_lost_return_parcels_refund_counts_toward_the_orders_limit(any_url, clock):
    # Given a known buyer's order of 2 mugs (¥30, WH-A) and a tin of tea (¥150, WH-C); a
    # return of 1 mug and the tea, whose return parcel was lost (its claim refunded ¥150) and
    # whose mug came back and was refunded (¥30)
    from tests.integration.fulfil.test_return_case_amount_due import arrives, return_sent

    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot, quantity=20)
    known_buyer(pilot, clock)
    stock(pilot, "SKU-MUG", "WH-A", 2)
    stock(pilot, "SKU-TEA", "WH-C", 1)
    order = pilot.orders.place(buyer_id="b-8", shipping_address=ADDRESS, lines=[
        {"sku": "SKU-MUG", "quantity": 2, "unit_price": 3_000},
        {"sku": "SKU-TEA", "quantity": 1, "unit_price": 15_000}])
    pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref="wxpay-88")
    for trigger in ("start_picking", "pack", "ship"):
        pilot.orders.fire(order.id, trigger)
    for parcel in pilot.shipments.of_order(order.id):
        for trigger in ("pick_up", "scan", "deliver"):
            pilot.shipments.fire(parcel.id, trigger)
    case_id, (back_a, back_c) = return_sent(pilot, order.id, [{"line_no": 1, "quantity": 1},
                                                              {"line_no": 2, "quantity": 1}])
    assert pilot.claims.report_lost(back_c.id, reason="中通确认退货丢件")["compensated"] == 15_000
    arrives(pilot, back_a.id)
    pilot.cases.fire(case_id, "inspect", result="ok")
    assert pilot.cases.fire(case_id, "refund").refunded == 3_000
    # When the buyer asks a refund of the other mug (¥30)
    other = pilot.cases.open(order.id, kind="refund_only", lines=[{"line_no": 1, "quantity": 1}],
                             reason="杯子有裂纹")
    # Then a person looks: ¥210 went or goes back on this order (before: the claim's ¥150 was
    # not counted, ¥60, and it was approved at once)
    assert triage(pilot, other) == [
        f"amount ¥30.00 (¥210.00 with the order's other requests) {LIMIT}"]
    pilot.close()


def test_an_order_refunded_in_full_does_not_make_a_new_buyer_known(any_url, clock):
    # Given a new buyer whose first order was paid and then cancelled (all the money back)
    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot, quantity=20)
    earlier = paid_order(pilot, buyer="b-new", quantity=1, unit_price=3_900,
                         shipping_address=ADDRESS)
    pilot.orders.fire(earlier.id, "cancel", reason="买错了")
    assert pilot.orders.get(earlier.id).refunded == 3_900
    clock.advance(days=2)
    second = delivered_order(pilot, buyer="b-new", quantity=1, unit_price=9_900,
                             shipping_address=ADDRESS)
    # When the buyer asks a refund on the second order
    case = pilot.cases.open(second.id, kind="refund_only",
                            lines=[{"line_no": 1, "quantity": 1}], reason="不想要了")
    # Then a person looks: nothing was bought and kept before (before: the refunded order
    # counted as "paid before" and the request was approved at once)
    assert triage(pilot, case) == ["first order of a new buyer asks for a refund"]
    pilot.close()


def test_before_means_placed_earlier_in_time_not_a_lower_order_id(any_url, clock):
    # Given a new buyer's two paid orders whose ids are not in time order (an import or a
    # replay): o-A has the lower id but was placed three days after o-B
    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot, quantity=20)
    clock.set(START + timedelta(days=3))
    later = delivered_order(pilot, buyer="b-new", quantity=1, unit_price=3_900,
                            shipping_address=ADDRESS)
    clock.set(START)
    earlier = delivered_order(pilot, buyer="b-new", quantity=1, unit_price=9_900,
                              shipping_address=ADDRESS)
    assert ids.ORDER.parse(later.id) < ids.ORDER.parse(earlier.id)
    clock.set(START + timedelta(days=5))
    # When the buyer asks a refund on each
    on_earlier, on_later = (
        pilot.cases.open(o.id, kind="refund_only", lines=[{"line_no": 1, "quantity": 1}],
                         reason="不想要了") for o in (earlier, later))
    # Then the earlier-placed order is the first order (a person looks) and the later one is
    # not (before: by id, the other way round)
    assert triage(pilot, on_earlier) == ["first order of a new buyer asks for a refund"]
    assert triage(pilot, on_later) == []
    pilot.close()


def test_a_request_waiting_for_a_person_counts_toward_the_limit(any_url, clock):
    # Given a known buyer's order of four ¥100 cups, three of them asked back (¥300: above
    # the limit, so waiting for a person)
    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot, quantity=20)
    known_buyer(pilot, clock)
    order = delivered_order(pilot, buyer="b-8", quantity=4, unit_price=10_000,
                            shipping_address=ADDRESS)
    big = pilot.cases.open(order.id, kind="refund_only", lines=[{"line_no": 1, "quantity": 3}],
                           reason="杯子有裂纹")
    assert triage(pilot, big) == [f"amount ¥300.00 {LIMIT}"]
    # When the buyer asks for the fourth cup
    small = pilot.cases.open(order.id, kind="refund_only",
                             lines=[{"line_no": 1, "quantity": 1}], reason="杯子有裂纹")
    # Then it waits for a person too: ¥400 asked on the order and nothing refused (before:
    # the waiting ¥300 did not count and ¥100 was refunded at once)
    assert triage(pilot, small) == [
        f"amount ¥100.00 (¥400.00 with the order's other requests) {LIMIT}"]
    pilot.close()
