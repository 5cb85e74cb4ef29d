"""Fixtures for the shop connections: a shop on `live_clock` (real time, moved by hand)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from integrations.config import Settings
from integrations.connect_config import ShopifyPolicy, WebhookPolicy
from orderpilot import ManualClock, OrderPilot
from statemachine.risk_port import approve_everything
from tests.factories import stock
from tests.fakes.http import patient_client
from tests.integration.connect.providers import SHOP, SHOPIFY_SECRET
from tests.integration.integ.server import running_server

# A generous timeout: on a loaded machine a receiver here is slow to answer, not hanging (no
# test here is about a receiver's timeout; 5 s failed some under load)
FAST_RETRIES = WebhookPolicy(retry_seconds=[5, 60], timeout_seconds=60, concurrency=4)


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


@pytest.fixture
def storefront(any_url: str, clock: ManualClock) -> Iterator[tuple[OrderPilot, httpx.Client]]:
    """A shop taking Shopify webhooks on a running server (SKU-1 at WH-1, SKU-2 at WH-2)."""
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything, settings=Settings(
        shopify=ShopifyPolicy(webhook_secret=SHOPIFY_SECRET, shop_domain=SHOP)))
    stock(pilot, sku="SKU-1", quantity=20)
    stock(pilot, sku="SKU-2", warehouse="WH-2", quantity=20)
    with running_server(pilot) as base_url, patient_client(base_url) as http:
        yield pilot, http
    pilot.close()
