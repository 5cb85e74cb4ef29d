"""The relay against a real Prefect server: events stored once, even when sent twice."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import update

from integrations.db.repository import OUTBOX
from integrations.events.relay import PrefectHttpSink, drain
from tests.integration.orchestration.shop import open_shop, place

pytestmark = pytest.mark.prefect


def _stored_events(order_id: str, expect: int, buyer: str = "b-77") -> list[object]:
    """The events of this test's order (other tests' stores on the server have an o-1 too)."""
    from prefect.client.orchestration import get_client
    from prefect.events.filters import EventFilter, EventResourceFilter
    from prefect.events.schemas.events import ResourceSpecification

    query = EventFilter(resource=EventResourceFilter(
        id=[f"orderpilot.order.{order_id}"],
        labels=ResourceSpecification({"orderpilot.buyer": buyer})))
    deadline = time.monotonic() + 30
    with get_client(sync_client=True) as client:
        while True:  # the server persists events in the background, in small batches
            events = client.read_events(filter=query, limit=50).events
            if len(events) >= expect or time.monotonic() > deadline:
                return events
            time.sleep(0.5)


def test_a_row_published_twice_is_one_event_on_the_prefect_server(tmp_path: Path,
                                                                   prefect_server: str):
    # Given an order placed and paid (3 outbox rows) published to the Prefect server
    pilot = open_shop(str(tmp_path / "shop.db"))
    order_id = place(pilot, buyer="b-77")
    pilot.orders.fire(order_id, "pay", amount=2500, payment_ref="pay-77")
    with PrefectHttpSink(prefect_server) as sink:
        assert drain(pilot.context, sink) == 3
        # When the relay "forgets" it published them (a crash before marking) and runs again
        with pilot.context.tx() as tx:
            tx.connection.execute(update(OUTBOX).values(published_at=None))
        assert drain(pilot.context, sink) == 3
    # Then Prefect holds each event once, with our names and labels
    _stored_events(order_id, expect=3)
    time.sleep(2)  # give a duplicate the time to show up before counting
    events = _stored_events(order_id, expect=0)
    assert sorted(e.event for e in events) == ["orderpilot.order.awaiting_payment",
                                               "orderpilot.order.created",
                                               "orderpilot.order.paid"]
    assert {e.resource["orderpilot.buyer"] for e in events} == {"b-77"}
