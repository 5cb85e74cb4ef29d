"""Step-up verification over real HTTP: the SMS goes out through apprise to a local gateway,
and the buyer's code comes back as a signed webhook."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from integrations.verification.apprise_sms import AppriseSmsVerifier
from orderpilot import OrderPilot
from statemachine.risk_port import Reason, RiskAction, RiskDecision
from statemachine.verification import Challenge
from tests.factories import stock
from tests.fakes.http import serving_thread
from tests.integration.integ.events import order_placed
from tests.integration.integ.server import Client, running_server


class Gateway(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, Any]]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["content-length"]))
        Gateway.received.append((self.path, json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def gateway() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    Gateway.received = []
    thread = serving_thread(server)
    thread.start()
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_the_apprise_verifier_sends_the_code_to_the_buyers_phone(gateway):
    verifier = AppriseSmsVerifier(f"json://{gateway}/sms/{{phone}}")
    expires = datetime.now(UTC) + timedelta(minutes=10)
    assert verifier.send(Challenge("o-7", "+8613800138000", "042917", expires))
    [(path, body)] = Gateway.received
    assert path == "/sms/8613800138000"
    assert "042917" in body["message"] and "o-7" in body["message"]


def test_a_gateway_that_is_down_is_reported_as_not_sent():
    verifier = AppriseSmsVerifier("json://127.0.0.1:9/sms/{phone}")
    expires = datetime.now(UTC) + timedelta(minutes=10)
    assert verifier.send(Challenge("o-7", "+8613800138000", "042917", expires)) is False


def verify_everything(facts: Any, store: Any) -> RiskDecision:
    return RiskDecision(RiskAction.VERIFY, 40.0, (Reason("velocity", "test: always verify"),))


def test_a_webhook_placement_sends_a_code_and_the_buyers_answer_approves(any_url):
    shop = OrderPilot(any_url, risk_check=verify_everything)
    stock(shop)
    with running_server(shop) as base_url:
        client = Client(base_url)
        placed = client.post("/v1/shop/orders", order_placed("shop-v1", quantity=1))
        order = placed.json()["order"]
        assert placed.status_code == 201 and order["state"] == "verifying"
        code = shop.context.verifier.code_for(order["id"])
        path = f"/v1/shop/orders/{order['id']}/verification"
        wrong = client.post(path, {"event_id": "ver-1", "code": "000000" if code != "000000"
                                   else "111111"})
        assert wrong.status_code == 200 and wrong.json()["attempts_left"] == 2
        right = client.post(path, {"event_id": "ver-2", "code": code})
        again = client.post(path, {"event_id": "ver-2", "code": code})
        client.http.close()
    assert right.json()["passed"] and right.json()["order"]["state"] == "awaiting_payment"
    assert again.headers["Idempotent-Replay"] == "true"
    shop.close()
