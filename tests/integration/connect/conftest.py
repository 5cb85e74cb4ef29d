"""Fixtures for the shop connections: a shop on `live_clock` (real time, moved by hand)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.config import Settings
from integrations.connect_config import WebhookPolicy
from orderpilot import ManualClock, OrderPilot
from statemachine.risk_port import approve_everything
from tests.factories import stock

FAST_RETRIES = WebhookPolicy(retry_seconds=[5, 60], timeout_seconds=5, concurrency=4)


def open_shop(url: str, clock: ManualClock, policy: WebhookPolicy = FAST_RETRIES) -> OrderPilot:
    pilot = OrderPilot(url, clock=clock, risk_check=approve_everything,
                       settings=Settings(webhooks=policy))
    stock(pilot, sku="SKU-1", warehouse="WH-1", quantity=1000)
    return pilot


@pytest.fixture
def shop(any_url: str, live_clock: ManualClock) -> Iterator[OrderPilot]:
    pilot = open_shop(any_url, live_clock)
    yield pilot
    pilot.close()
