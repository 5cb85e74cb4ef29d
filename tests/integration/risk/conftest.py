"""Risk tests run with the default risk check (the packaged rule set), not approve_everything."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orderpilot import ManualClock, OrderPilot


@pytest.fixture
def pilot(sqlite_url: str, clock: ManualClock) -> Iterator[OrderPilot]:
    p = OrderPilot(sqlite_url, clock=clock)
    yield p
    p.close()


@pytest.fixture
def any_pilot(any_url: str, clock: ManualClock) -> Iterator[OrderPilot]:
    p = OrderPilot(any_url, clock=clock)
    yield p
    p.close()
