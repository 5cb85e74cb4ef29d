"""Every new parcel is subscribed with the tracking provider by the relay: against fake
Kuaidi100 and AfterShip servers on 127.0.0.1, retried after a failure, idempotent."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from integrations.config import Settings
from integrations.connect_config import TrackingPolicy, WebhookPolicy
from orderpilot import OrderPilot
from statemachine.risk_port import approve_everything
from tests.factories import shipped_order, stock
from tests.integration.connect.fakes import FakeServer

POLICY = WebhookPolicy(retry_seconds=[5, 5], concurrency=2)


def shop(url: str, clock, tracking: TrackingPolicy) -> OrderPilot:
    pilot = OrderPilot(url, clock=clock, risk_check=approve_everything,
                       settings=Settings(tracking=tracking, webhooks=POLICY))
    stock(pilot, quantity=20)
    return pilot


def test_new_parcels_are_subscribed_with_kuaidi100_once_even_after_a_failure(any_url, clock):
    # Given Kuaidi100's poll API that fails the first time, then answers 200, then 501
    # (already subscribed) for a repeat
    answers = iter([(500, {"result": False, "returnCode": "500", "message": "服务器错误"}),
                    (200, {"result": True, "returnCode": "200", "message": "提交成功"}),
                    (200, {"result": False, "returnCode": "501", "message": "重复订阅"})])
    fake = FakeServer(lambda method, path, headers, body: next(answers))
    pilot = shop(any_url, clock, TrackingPolicy(
        provider="kuaidi100", carrier_codes={"sim-express": "yuantong"},
        kuaidi100_key="key-for-tests", kuaidi100_salt="salt-for-tests",
        kuaidi100_callback_url="https://shop.example.cn/hooks/kuaidi100",
        kuaidi100_poll_url=f"{fake.url}/poll"))
    try:
        order = shipped_order(pilot, buyer="b-1")
        relay = pilot.webhooks.relay()
        # When the relay runs, and again after the 5 s backoff
        relay.drain()
        clock.advance(seconds=5)
        relay.drain()
        # and the same parcel is (for whatever reason) queued again and re-sent
        relay.close()
    finally:
        fake.close()
    # Then Kuaidi100 was asked twice with the documented form fields, and it is done
    assert len(fake.requests) == 2
    form = parse_qs(fake.requests[-1][3].decode())
    param = json.loads(form["param"][0])
    parcel = pilot.shipments.of_order(order.id)[0]
    assert form["schema"] == ["json"]
    assert (param["company"], param["number"], param["key"]) == (
        "yuantong", parcel.tracking_no, "key-for-tests")
    assert param["parameters"] == {"callbackurl": "https://shop.example.cn/hooks/kuaidi100",
                                   "salt": "salt-for-tests", "resultv2": "1", "phone": "0000"}
    log = [d for d in pilot.webhooks.deliveries(limit=100) if d.event.endswith("label_created")]
    assert [(d.status, d.attempts) for d in log] == [("delivered", 2)]
    pilot.close()


def test_aftership_trackings_are_created_with_the_sdk_and_an_existing_one_counts(sqlite_url,
                                                                                   clock):
    # Given AfterShip's API: the first parcel is new, the second already tracked (4003)
    def answer(method, path, headers, body):
        assert headers["as-api-key"] == "as-key" and path == "/tracking/2026-07/trackings"
        number = json.loads(body)["tracking_number"]
        if number.endswith("-1") and "o-1" in number:
            return 201, {"meta": {"code": 201}, "data": {"id": "trk-1", "tracking_number":
                                                         number, "slug": "sf-express"}}
        return 400, {"meta": {"code": 4003, "type": "BadRequest",
                              "message": "Tracking already exists."}, "data": {}}

    fake = FakeServer(answer)
    pilot = shop(sqlite_url, clock, TrackingPolicy(
        provider="aftership", carrier_codes={"sim-express": "sf-express"},
        aftership_api_key="as-key", aftership_domain=fake.url))
    try:
        shipped_order(pilot, buyer="b-1")
        shipped_order(pilot, buyer="b-2")
        relay = pilot.webhooks.relay()
        relay.drain()
        relay.close()
    finally:
        fake.close()
    bodies = [json.loads(r[3]) for r in fake.requests]
    assert [b["slug"] for b in bodies] == ["sf-express", "sf-express"]
    log = [d for d in pilot.webhooks.deliveries(limit=100) if d.event.endswith("label_created")]
    assert [d.status for d in log] == ["delivered", "delivered"]
    pilot.close()


def test_a_refused_subscription_is_dead_lettered_at_once(sqlite_url, clock):
    fake = FakeServer(lambda *request: (200, {"result": False, "returnCode": "600",
                                              "message": "您不是合法的订阅者"}))
    pilot = shop(sqlite_url, clock, TrackingPolicy(
        provider="kuaidi100", kuaidi100_key="bad", kuaidi100_salt="s",
        kuaidi100_callback_url="https://shop.example.cn/hooks/kuaidi100",
        kuaidi100_poll_url=f"{fake.url}/poll"))
    try:
        shipped_order(pilot, buyer="b-1")
        relay = pilot.webhooks.relay()
        relay.drain()
        relay.close()
    finally:
        fake.close()
    dead = pilot.webhooks.deliveries(status="dead")
    assert len(fake.requests) == 1 and len(dead) == 1
    assert "returnCode 600" in dead[0].last_error
    pilot.close()
