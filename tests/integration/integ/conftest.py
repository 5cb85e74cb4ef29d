"""Fixtures: a shop on a SQLite file, served over real HTTP, and a signing client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orderpilot import OrderPilot
from tests.factories import stock
from tests.integration.integ.server import Client, review_big_orders, running_server


@pytest.fixture
def shop(any_url: str) -> Iterator[OrderPilot]:
    """A shop on a SQLite file, and again on PostgreSQL when ORDERPILOT_TEST_POSTGRES_URL is set."""
    pilot = OrderPilot(any_url, risk_check=review_big_orders)
    stock(pilot, sku="SKU-1", warehouse="WH-1", quantity=100)
    yield pilot
    pilot.close()


@pytest.fixture
def client(shop: OrderPilot) -> Iterator[Client]:
    with running_server(shop) as base_url:
        c = Client(base_url)
        yield c
        c.http.close()
