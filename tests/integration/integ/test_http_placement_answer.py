"""A placement's 201 answers with the order exactly as it was stored, whatever the risk engine
decided: the handler builds the answer from the order it placed instead of loading it again."""

from __future__ import annotations

from typing import Any

import pytest

from orderpilot import OrderPilot
from statemachine.risk_port import Reason, RiskAction, RiskDecision
from tests.factories import stock
from tests.integration.integ.events import order_placed
from tests.integration.integ.server import Client, running_server

STATES = {RiskAction.APPROVE: "awaiting_payment", RiskAction.REVIEW: "under_review",
          RiskAction.VERIFY: "verifying", RiskAction.REJECT: "rejected"}


@pytest.mark.parametrize("action", list(STATES), ids=[a.value for a in STATES])
def test_the_answer_is_the_stored_order(any_url, action):
    def decided(facts: Any, connection: Any) -> RiskDecision:
        return RiskDecision(action, 0.5, (Reason("test", "decided by the test", {"n": 1}),))

    pilot = OrderPilot(any_url, risk_check=decided)
    stock(pilot, sku="SKU-1", warehouse="WH-1", quantity=10)
    try:
        with running_server(pilot) as base_url:
            client = Client(base_url)
            response = client.post("/v1/shop/orders", order_placed("shop-a", quantity=2))
            again = client.post("/v1/shop/orders", order_placed("shop-a", quantity=2))
            client.http.close()
        assert response.status_code == 201, response.text
        answered = response.json()["order"]
        stored = pilot.orders.get(answered["id"]).model_dump(mode="json")
        assert answered["state"] == STATES[action]
        assert answered == stored
        assert again.json()["order"] == response.json()["order"]  # a replay: the same answer
        assert again.headers["Idempotent-Replay"] == "true"
    finally:
        pilot.close()
