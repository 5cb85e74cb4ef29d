"""Buyer notices through apprise, in Chinese or English, one switch each, PII kept out of the
logs: against a local receiver standing in for the shop's SMS / mail gateway."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs, urlsplit

from integrations.config import Settings
from integrations.connect_config import NoticePolicy
from integrations.events.senders import connect_senders
from orderpilot import OrderPilot
from statemachine.risk_port import approve_everything
from tests.factories import delivered_order, order_request, stock
from tests.integration.connect.fakes import FakeServer

PHONE, EMAIL = "13912345678", "wangfang@example.cn"


def shop(url: str, clock, **notices) -> OrderPilot:
    pilot = OrderPilot(url, clock=clock, risk_check=approve_everything,
                       settings=Settings(notices=NoticePolicy(shop_name="茶铺", **notices)))
    stock(pilot, quantity=20)
    return pilot


def run_relay(pilot: OrderPilot, gateway: FakeServer) -> None:
    route = f"json://127.0.0.1:{urlsplit(gateway.url).port}/notices?:to={{phone}}&:mail={{email}}"
    relay = pilot.webhooks.relay(connect_senders(pilot.context, routes={"buyer": [route]}))
    relay.drain()
    relay.close()


def received(gateway: FakeServer) -> list[dict]:
    return [json.loads(body) for _, _, _, body in gateway.requests]


def test_a_buyer_hears_of_each_step_in_chinese_in_order_and_logs_stay_clean(any_url, clock,
                                                                            caplog):
    # Given an order with the buyer's phone and e-mail, delivered, and a refund request
    gateway = FakeServer(lambda *r: (200, {"ok": True}))
    pilot = shop(any_url, clock)
    order = delivered_order(pilot, email=EMAIL, phone=PHONE)
    case = pilot.cases.open(order.id, kind="refund_only", reason="少发一件",
                            lines=[{"line_no": 1, "quantity": 1}])
    pilot.cases.fire(case.id, "auto_approve")
    pilot.cases.fire(case.id, "refund")
    # When the relay runs
    with caplog.at_level(logging.DEBUG):
        run_relay(pilot, gateway)
    gateway.close()
    # Then the buyer got each notice once, in order, at their own phone and e-mail
    notes = received(gateway)
    assert [n["title"] for n in notes] == [
        f"【茶铺】订单 {order.id} 已确认", f"【茶铺】订单 {order.id} 付款成功",
        f"【茶铺】订单 {order.id} 已发货", f"【茶铺】订单 {order.id} 已签收",
        f"【茶铺】售后申请 {case.id} 已通过", f"【茶铺】订单 {order.id} 退款已发起"]
    assert {(n["to"], n["mail"]) for n in notes} == {("+86" + PHONE, EMAIL)}  # E.164
    shipped = notes[2]["message"]
    assert f"sim-express {order.id}-1" in shipped and "kuaidi100.com/chaxun?com=sim-express" \
        in shipped
    assert "¥19.99" in notes[5]["message"]
    # and neither the phone nor the e-mail appears in any log line
    assert PHONE not in caplog.text and EMAIL not in caplog.text
    pilot.close()


def test_english_for_an_english_buyer_and_a_switched_off_notice_is_not_sent(sqlite_url, clock):
    gateway = FakeServer(lambda *r: (200, {}))
    pilot = shop(sqlite_url, clock, send=["paid", "shipped"])
    order = pilot.orders.place(**order_request(email=EMAIL, locale="en-GB"))
    pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref="p-1")
    run_relay(pilot, gateway)
    gateway.close()
    assert [n["title"] for n in received(gateway)] == [
        f"[茶铺] Payment received for {order.id}"]
    assert "We received ¥39.98" in received(gateway)[0]["message"]
    pilot.close()


def test_a_buyer_no_route_can_reach_is_skipped_with_a_note_and_others_still_hear(sqlite_url,
                                                                              clock):
    gateway = FakeServer(lambda *r: (200, {}))
    pilot = shop(sqlite_url, clock, send=["confirmed"])
    silent = pilot.orders.place(**order_request(buyer="b-quiet", phone=None,
                                                shipping_address={"street": "文三路 18 号",
                                                                  "city": "杭州市",
                                                                  "district": "西湖区"}))
    loud = pilot.orders.place(**order_request(buyer="b-loud", email=EMAIL))
    route = f"json://127.0.0.1:{urlsplit(gateway.url).port}/n?:mail={{email}}"
    relay = pilot.webhooks.relay(connect_senders(pilot.context, routes={"buyer": [route]}))
    relay.drain()
    relay.close()
    gateway.close()
    assert [parse_qs(urlsplit(p).query) for _, p, _, _ in gateway.requests] == [{}]
    assert received(gateway)[0]["mail"] == EMAIL and loud.id in received(gateway)[0]["title"]
    skipped = pilot.webhooks.deliveries(order_id=silent.id)
    assert [(d.status, d.last_error) for d in skipped] == [
        ("delivered", "skipped: no phone or email a buyer route can use")]
    pilot.close()


def test_an_order_paid_on_an_authorisation_tells_the_buyer_the_amount_they_paid(sqlite_url,
                                                                                clock):
    # Given capture at shipping: the order is paid on the authorisation, nothing captured yet
    gateway = FakeServer(lambda *r: (200, {}))
    pilot = shop(sqlite_url, clock, send=["paid"])
    order = pilot.orders.place(**order_request(email=EMAIL))
    pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref="p-1",
                      authorised_only=True)
    assert pilot.orders.get(order.id).paid == 0
    run_relay(pilot, gateway)
    gateway.close()
    # Then the notice names what the buyer paid, not the ¥0.00 the shop has captured so far
    [note] = received(gateway)
    assert "付款 ¥39.98" in note["message"], note["message"]
    pilot.close()
