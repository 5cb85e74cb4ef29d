"""End to end over a real HTTP server, on SQLite and PostgreSQL: a Shopify order webhook →
held → paid → shipped → Kuaidi100 pushes → delivered → an exchange ships a replacement (its
own tracking, subscribed with Kuaidi100 too); a webhook subscriber saw every event once, in
order, each signature verified with `standardwebhooks`; the buyer heard of each step."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from integrations.config import Settings
from integrations.connect_config import (
    NoticePolicy,
    ShopifyPolicy,
    TrackingPolicy,
    WebhookPolicy,
)
from integrations.events.senders import connect_senders
from orderpilot import OrderPilot
from statemachine.risk_port import approve_everything
from tests.fakes.http import patient_client
from tests.integration.connect.fakes import FakeServer
from tests.integration.connect.providers import (
    KUAIDI100_SALT,
    SHOP,
    SHOPIFY_SECRET,
    kuaidi100_form,
    kuaidi100_param,
    shopify_headers,
    shopify_order,
)
from tests.integration.connect.receiver import Receiver
from tests.integration.connect.test_webhooks_out import outbox_ids_by_order
from tests.integration.integ.server import running_server

FORM = {"content-type": "application/x-www-form-urlencoded"}


def settings(poll_url: str) -> Settings:
    return Settings(
        shopify=ShopifyPolicy(webhook_secret=SHOPIFY_SECRET, shop_domain=SHOP),
        tracking=TrackingPolicy(provider="kuaidi100", carrier_codes={"sim-express": "yuantong"},
                                kuaidi100_key="k", kuaidi100_salt=KUAIDI100_SALT,
                                kuaidi100_callback_url="https://shop.example.cn/hooks/kuaidi100",
                                kuaidi100_poll_url=poll_url),
        webhooks=WebhookPolicy(retry_seconds=[1], concurrency=4),
        notices=NoticePolicy(shop_name="茶铺"))


def test_shopify_order_to_delivered_to_an_exchange_that_ships(any_url, live_clock):
    kuaidi100 = FakeServer(lambda *r: (200, {"result": True, "returnCode": "200"}))
    gateway = FakeServer(lambda *r: (200, {}))
    pilot = OrderPilot(any_url, clock=live_clock, risk_check=approve_everything,
                       settings=settings(f"{kuaidi100.url}/poll"))
    pilot.inventory.receive(sku="SKU-1", warehouse="WH-1", quantity=10)
    subscriber = Receiver("")
    subscriber.secret = pilot.webhooks.subscribe(subscriber.url, description="ERP").secret
    buyer_route = f"json://127.0.0.1:{urlsplit(gateway.url).port}/sms?:to={{phone}}"
    relay = pilot.webhooks.relay(connect_senders(pilot.context, routes={"buyer": [buyer_route]}))

    def push(number: str, state: str, when: str) -> dict:
        answer = http.post("/hooks/kuaidi100", headers=FORM, content=kuaidi100_form(
            kuaidi100_param(number, state, when=when)))
        assert answer.status_code == 200 and answer.json()["returnCode"] == "200", answer.text
        return answer.json()

    try:
        with running_server(pilot) as base_url, patient_client(base_url) as http:
            # a Shopify order arrives: placed, stock held
            body = json.dumps(shopify_order(), ensure_ascii=False).encode()
            created = http.post("/hooks/shopify", content=body,
                                headers=shopify_headers(body, "orders/create", "wh-1"))
            order_id = created.json()["order"]["id"]
            assert created.json()["order"]["state"] == "awaiting_payment"
            assert pilot.inventory.level(sku="SKU-1", warehouse="WH-1").reserved == 2
            # paid in Shopify
            body = json.dumps(shopify_order(financial_status="paid"), ensure_ascii=False).encode()
            assert http.post("/hooks/shopify", content=body, headers=shopify_headers(
                body, "orders/paid", "wh-2")).json()["order"]["state"] == "paid"
            # picked, packed, shipped; the relay subscribes the waybill with Kuaidi100
            for trigger in ("start_picking", "pack", "ship"):
                pilot.orders.fire(order_id, trigger, actor="wh-zhang")
            relay.drain()
            [parcel] = pilot.shipments.of_order(order_id)
            # Kuaidi100 pushes: picked up, in transit, out for delivery, signed
            for n, state in enumerate(("1", "0", "5", "3"), start=1):
                push(parcel.tracking_no, state, f"2026-11-1{n} 10:00:00")
            assert pilot.orders.get(order_id).state == "delivered"
            # the buyer wants another unit instead of one: exchange, accepted, sent back
            case = pilot.cases.open(order_id, kind="exchange", reason="茶叶受潮",
                                    lines=[{"line_no": 1, "quantity": 1}])
            pilot.cases.fire(case.id, "auto_approve")
            pilot.cases.fire(case.id, "await_return")
            relay.drain()
            push(f"{case.id}-R1", "1", "2026-11-16 09:00:00")
            push(f"{case.id}-R1", "3", "2026-11-17 09:00:00")
            assert pilot.cases.get(case.id).state == "received"
            pilot.cases.fire(case.id, "inspect", result="damaged", notes="受潮结块",
                             actor="wh-li")
            pilot.cases.fire(case.id, "exchange", actor="wh-li")
            relay.drain()
            push(f"{case.id}-X1", "1", "2026-11-18 09:00:00")
            push(f"{case.id}-X1", "3", "2026-11-19 09:00:00")
            relay.drain()
    finally:
        relay.close()
        subscriber.close()
        kuaidi100.close()
        gateway.close()
    # the replacement parcel has its own tracking and was delivered
    parcels = {s.tracking_no: s for s in pilot.shipments.of_order(order_id)}
    assert parcels[f"{case.id}-X1"].state == "delivered"
    assert parcels[f"{case.id}-X1"].purpose == "replacement"
    assert pilot.cases.get(case.id).state == "exchanged"
    # Kuaidi100 was asked to push for all three waybills, once each
    numbers = [json.loads(parse_qs(r[3].decode())["param"][0])["number"]
               for r in kuaidi100.requests]
    assert sorted(numbers) == sorted([parcel.tracking_no, f"{case.id}-R1", f"{case.id}-X1"])
    # stock: 2 sold, 1 returned and written off, 1 replacement sold; nothing reserved
    level = pilot.inventory.level(sku="SKU-1", warehouse="WH-1")
    assert (level.on_hand, level.reserved) == (7, 0)
    # the subscriber saw every event once, in order, signatures verified
    assert subscriber.forged == 0 and len(subscriber.accepted) == len(subscriber.applied())
    assert subscriber.by_order() == outbox_ids_by_order(pilot)
    seen = [m["type"] for m in subscriber.applied()]
    assert seen.index("orderpilot.order.paid") < seen.index("orderpilot.order.delivered") < \
        seen.index("orderpilot.case.exchanged")
    # and the buyer heard of each step, at their own phone
    titles = [json.loads(r[3])["title"] for r in gateway.requests]
    assert [t.split(" ")[-1] for t in titles] == ["已确认", "付款成功", "已发货", "已签收",
                                                  "已通过"]
    assert {json.loads(r[3])["to"] for r in gateway.requests} == {"+8613912345678"}
    pilot.close()
