"""What staff read in the console, from the store: an order's whole timeline (the `order-o-<n>`
page) and the description above a review form — money in major units, times in the shop's
zone, personal data left to the artifact masking."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.console.casefiles import review_description, timeline
from integrations.console.casework import open_case
from orderpilot import OrderPilot
from orderpilot.api_integrations import add_note
from tests.integration.orchestration.shop import review_big_orders

ADDRESS = {"recipient": "张伟", "phone": "+86 138 0013 8000", "province": "上海市",
           "city": "上海市", "district": "黄浦区", "street": "南京东路 100 号"}


@pytest.fixture
def shop(any_url: str, clock: Any):
    pilot = OrderPilot(any_url, clock=clock, risk_check=review_big_orders)
    pilot.inventory.receive(sku="TEA-LJ", warehouse="WH-HZ", quantity=100)
    yield pilot
    pilot.close()


def place(pilot: OrderPilot, buyer: str, price: int, device: str = "d-1") -> str:
    return pilot.orders.place(
        buyer_id=buyer, lines=[{"sku": "TEA-LJ", "quantity": 1, "unit_price": price}],
        shipping_address=ADDRESS, device_id=device, ip="183.156.0.7").id


def test_an_orders_timeline_tells_its_whole_story_in_the_shops_time_zone(shop: OrderPilot):
    # Given an order held, approved, paid, shipped, with a note and a refund request
    order_id = place(shop, "b-1", 700_000)
    shop.reviews.approve(order_id, by="mei", reason="buyer confirmed by phone")
    shop.orders.fire(order_id, "pay", amount=700_000, payment_ref="alipay-1")
    for trigger, who in [("start_picking", "wave-1"), ("double_check", "checker-zhao"),
                         ("pack", "packer-li"), ("ship", "packer-li")]:
        shop.orders.fire(order_id, trigger, actor=who)
    add_note(shop, order_id, "buyer asked for a call before delivery", by="amy")
    case = shop.cases.open(order_id, kind="refund_only", reason="包装破损",
                           lines=[{"line_no": 1, "quantity": 1}])
    # When the console writes its case file
    page = timeline(shop.context, order_id)
    # Then the page holds state and money as people read them, every step with its actor and a
    # time in the shop's zone (09:00 UTC is 17:00 in Shanghai), parcels, cases and notes
    assert page.startswith(f"# {order_id} · shipped · ¥7,000.00")
    assert "paid ¥7,000.00, refunded ¥0.00. Times in Asia/Shanghai." in page
    assert "## Risk: review\n\n- amount above 5000" in page
    assert f"| 2026-11-11 17:00 CST | {order_id} | approve | under_review → awaiting_payment " \
           "| mei |" in page
    assert "| ship | packed → shipped | packer-li |" in page
    assert "| s-1 | sim-express |" in page
    assert f"| {case.id} | refund_only | requested |" in page
    assert "| amy | buyer asked for a call before delivery |" in page
    assert "UTC" not in page


def test_a_review_form_shows_the_deadline_where_it_came_from_and_related_orders(
        any_url: str, clock: Any):
    # Given the packaged risk rules, an earlier order of another buyer from the same device,
    # then an order above ¥5,000 that the rules hold
    shop = OrderPilot(any_url, clock=clock)
    shop.inventory.receive(sku="TEA-LJ", warehouse="WH-HZ", quantity=100)
    earlier = place(shop, "b-2", 2_000, device="d-shared")
    clock.advance(minutes=30)
    held = place(shop, "b-3", 800_000, device="d-shared")
    case = open_case(shop.context, "risk-review", held)
    assert case is not None
    # When the console describes the review
    text = review_description(shop.context, case, clock.now())
    shop.close()
    # Then the reviewer sees the amount, the deadline in the shop's zone, where the order ships
    # and was placed from (the IP masked), the related order and how to decide from a terminal
    assert text.startswith(f"# Risk review · {held} · ¥8,000.00")
    assert "**Decide by 2026-11-12 17:30 CST** (24 h 0 min left)" in text
    assert "Ships to CN 上海市 黄浦区; placed from device d-shared, IP 183.156.*.*." in text
    [related] = [line for line in text.splitlines() if line.startswith(f"| {earlier} |")]
    assert "| b-2 |" in related and "device" in related and "¥20.00" in related
    assert "183.156.0.7" not in text and "138" not in text
    assert f"`orderpilot review approve {held} --by NAME`" in text


def test_a_review_form_shows_money_paid_meanwhile_and_past_orders_in_their_own_currency(
        shop: OrderPilot, clock: Any):
    # Given a buyer whose earlier order was in yen, then an order in yuan held for review that
    # the buyer pays (Alipay) while it waits
    earlier = shop.orders.place(
        buyer_id="b-7", currency="JPY", shipping_address=ADDRESS, device_id="d-7",
        lines=[{"sku": "TEA-LJ", "quantity": 1, "unit_price": 3_000}]).id
    clock.advance(minutes=30)
    held = place(shop, "b-7", 800_000, device="d-7")
    shop.orders.fire(held, "pay", amount=800_000, payment_ref="2026112822001400001",
                     actor="provider:alipay")
    case = open_case(shop.context, "risk-review", held)
    assert case is not None
    # When the console describes the review
    text = review_description(shop.context, case, clock.now())
    # Then the earlier order's total is in yen (before: "¥30.00", read as yuan) ...
    [past] = [line for line in text.splitlines() if line.startswith(f"| {earlier} |")]
    assert "JPY" in past and "¥30.00" not in past, past
    # ... and the reviewer is told the money is there, and what each decision does with it
    # (before: "approve: the buyer can pay ... reject: the stock is released")
    assert "**The buyer has paid ¥8,000.00** (2026112822001400001)" in text
    assert "the stock is released and the ¥8,000.00 refunded" in text
    assert "the buyer can pay" not in text
