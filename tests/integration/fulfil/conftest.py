"""A shop with three warehouses at known distances, on a real SQLite file and a manual clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.config import Settings
from integrations.fulfil_config import FulfilmentPolicy
from orderpilot import ManualClock, OrderPilot
from statemachine.risk_port import approve_everything

DISTANCES = {"WH-A": {"WH-B": 150, "WH-C": 900}, "WH-B": {"WH-C": 800}}


def make_pilot(url: str, clock: ManualClock, **policy) -> OrderPilot:
    settings = Settings(database_url=url, fulfilment=FulfilmentPolicy(
        distances=DISTANCES, double_check_over=50_000, **policy))
    return OrderPilot(url, clock=clock, risk_check=approve_everything, settings=settings)


@pytest.fixture
def shop(any_url: str, clock: ManualClock) -> Iterator[OrderPilot]:
    """The shop on a SQLite file, and again on PostgreSQL (skipped when unreachable)."""
    p = make_pilot(any_url, clock)
    yield p
    p.close()
