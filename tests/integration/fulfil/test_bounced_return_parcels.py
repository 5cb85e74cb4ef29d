"""A return parcel the carrier sends back to the buyer (returned to sender) bounces its case to
a person: `awaiting_return → return_bounced`, whose event is the ops alert naming the case and
the parcel, with the 24 h after-sales SLA running from the bounce. The person sends a new return
label (carrying the bounced units only) or closes the case. Before, the case waited in
`awaiting_return` for goods that would never come, and nothing told anyone."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from integrations.db.repository import OUTBOX
from integrations.notifications.templates import render
from statemachine.errors import GuardRejected
from tests.integration.fulfil.test_case_replacement_goods import PRICE, shipped_split_order
from tests.integration.fulfil.test_lost_return_parcels import delivered_order, return_sent


def events(shop, name: str) -> list[dict]:
    with shop.context.tx(readonly=True) as tx:
        rows = tx.connection.execute(select(OUTBOX.c.payload).where(
            OUTBOX.c.event == f"orderpilot.case.{name}").order_by(OUTBOX.c.id))
        return [p if isinstance(p, dict) else json.loads(p) for (p,) in rows]


def test_a_bounced_return_parcel_asks_a_person_within_the_after_sales_sla(shop, clock):
    # Given 2 mugs (¥129, CNY) delivered to Hangzhou and 1 on its way back
    order = delivered_order(shop)
    case_id, [back] = return_sent(shop, order.id)
    # When the carrier sends the return parcel back to the buyer
    shop.shipments.fire(back.id, "return_to_sender", reason="仓库地址有误，退回寄件人")
    # Then the case is bounced to a person, and ops are alerted naming the case and parcel
    assert shop.cases.get(case_id).state == "return_bounced"
    [alert] = events(shop, "return_bounced")
    assert (alert["case_id"], alert["details"]["parcel"]) == (case_id, back.id)
    message = render("orderpilot.case.return_bounced", alert)
    assert message is not None and message.audience == "ops"
    assert back.id in message.title and case_id in message.title
    assert "仓库地址有误" in message.body and "24 h" in message.body
    # And nobody may book the parcel back into our stock: it went to the buyer
    with pytest.raises(GuardRejected, match=f"to the buyer, not to us: its case {case_id}"):
        shop.claims.receive_return(back.id, result="ok")
    # When nobody answers for 24 h, the after-sales SLA escalates it
    clock.advance(hours=23)
    assert shop.sweep().get("aftersales_sla", 0) == 0
    clock.advance(hours=2)
    assert shop.sweep()["aftersales_sla"] == 1
    [breach] = events(shop, "sla_breached")
    assert (breach["case_id"], breach["state"]) == (case_id, "return_bounced")


def test_a_bounced_return_is_sent_again_with_a_new_label_for_its_units_only(shop, clock):
    # Given 3 tees delivered from WH-A (2) and WH-C (1), all 3 on their way back
    order, parcels = shipped_split_order(shop)
    for parcel in parcels:
        for trigger in ("scan", "deliver"):
            shop.shipments.fire(parcel.id, trigger)
    case_id, (back_a, back_c) = return_sent(shop, order.id, quantity=3)
    # When WH-A's box arrives and WH-C's is sent back to the buyer
    for trigger in ("scan", "deliver"):
        shop.shipments.fire(back_a.id, trigger)
    shop.shipments.fire(back_c.id, "return_to_sender", reason="收件人拒收")
    assert shop.cases.get(case_id).state == "return_bounced"
    # And customer service sends the buyer a new label, within the SLA
    clock.advance(hours=3)
    shop.cases.fire(case_id, "await_return", actor="cs-wang", reason="已联系买家重新寄回")
    again = [s for s in shop.shipments.of_order(order.id)
             if s.case_id == case_id and s.id not in (back_a.id, back_c.id)]
    # Then the new label is WH-C's alone, and the SLA no longer runs
    assert [s.warehouse for s in again] == ["WH-C"]
    clock.advance(hours=30)
    assert shop.sweep().get("aftersales_sla", 0) == 0
    # When it arrives, the case is received, inspected and refunded for all 3
    for trigger in ("pick_up", "deliver"):
        shop.shipments.fire(again[0].id, trigger)
    assert shop.cases.get(case_id).state == "received"
    shop.cases.fire(case_id, "inspect", result="ok", notes="吊牌完好", actor="wh-zhao")
    assert [shop.inventory.level(sku="SKU-TEE", warehouse=wh).on_hand
            for wh in ("WH-A", "WH-C")] == [2, 1]
    assert shop.cases.fire(case_id, "refund").refunded == 3 * PRICE
    assert shop.inventory.reconcile() == []


def test_a_bounced_return_can_be_closed_the_buyer_keeping_the_goods(shop):
    # Given a return bounced back to the buyer
    order = delivered_order(shop)
    case_id, [back] = return_sent(shop, order.id)
    shop.shipments.fire(back.id, "return_to_sender", reason="超时未取，退回")
    # When the buyer decides to keep the mug and the case is closed
    closed = shop.cases.fire(case_id, "close", actor="cs-wang", reason="买家决定不退了")
    # Then nothing was refunded, no stock came back, and the SLA stops
    assert closed.state == "closed" and shop.orders.get(order.id).refunded == 0
    assert shop.inventory.level(sku="SKU-MUG", warehouse="WH-A").on_hand == 0
    assert shop.sweep(shop.clock.now() + timedelta(hours=30)).get("aftersales_sla", 0) == 0
    assert shop.inventory.reconcile() == []
