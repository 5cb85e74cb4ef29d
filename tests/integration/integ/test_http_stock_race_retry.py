"""`POST /v1/ops/orders/{id}/address` when the stock it plans for the new address is taken
under it: the route re-runs the correction under the one retry policy the Python API uses
(service/contention.py, `ATTEMPTS` runs); only when every run loses does ops hear 503 with
Retry-After, nothing written. The stock is "taken" here by refusing the move the correction
asks for (StockStore.move), as PostgreSQL refuses it when a concurrent order got there first
(the real race, processes on both stores: races/test_correction_stock_races.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.db.stock import StockStore
from integrations.service import contention
from orderpilot import OrderPilot
from tests.integration.integ.server import Client, row_counts, running_server
from tests.integration.races.correction_actions import SHANGHAI, SHENZHEN, place_at, regional
from tests.integration.races.test_correction_stock_races import plan_of


@pytest.fixture
def shop(any_url: str) -> Iterator[OrderPilot]:
    """A shop that knows its warehouses' regions, with 2 units in Shenzhen and 2 in Shanghai."""
    pilot = OrderPilot(any_url)
    for warehouse in ("WH-SHENZHEN", "WH-SHANGHAI"):
        pilot.inventory.receive(sku="SKU-1", warehouse=warehouse, quantity=2)
    yield pilot
    pilot.close()


@pytest.fixture
def ops(shop: OrderPilot) -> Iterator[Client]:
    with running_server(shop, context=regional(shop)) as base_url:
        client = Client(base_url)
        yield client
        client.http.close()


class Taken:
    """The holds the correction asks for: the next `times` are refused, `asked` counts all."""

    def __init__(self) -> None:
        self.times, self.asked = 0, 0

    def refuse(self, times: int) -> None:
        self.times, self.asked = times, 0


@pytest.fixture
def taken(monkeypatch) -> Taken:
    state, real = Taken(), StockStore.move

    def move(self, order_id, plan, at):
        state.asked += 1
        if state.times > 0:
            state.times -= 1
            return False
        return real(self, order_id, plan, at)

    monkeypatch.setattr(StockStore, "move", move)
    return state


def correct(ops: Client, order_id: str, event_id: str = "addr-1"):
    return ops.post(f"/v1/ops/orders/{order_id}/address",
                    {"event_id": event_id, "address": {"line": SHANGHAI}, "by": "ops:mei"})


@pytest.mark.parametrize("losses", [1, contention.ATTEMPTS - 1])
def test_a_correction_that_loses_its_stock_is_run_again_and_answered_200(ops, shop, taken,
                                                                         losses):
    # Given a Shenzhen order holding Shenzhen's units
    order = place_at(shop, "b-1", "SKU-1", SHENZHEN)
    # When ops correct it to Shanghai and Shanghai's units are taken under it `losses` times
    taken.refuse(losses)
    answer = correct(ops, order)
    # Then ops hear 200 and the order holds Shanghai's units, after one more run
    assert answer.status_code == 200, answer.text
    assert answer.json()["changed"] is True
    assert plan_of(shop, order) == {"WH-SHANGHAI": 2}
    assert taken.asked == losses + 1


def test_a_correction_that_loses_every_run_is_503_with_retry_after_and_writes_nothing(
        ops, shop, taken):
    # Given a Shenzhen order holding Shenzhen's units
    order = place_at(shop, "b-1", "SKU-1", SHENZHEN)
    before = row_counts(shop)
    # When Shanghai's units are taken under every run of its correction
    taken.refuse(10**6)
    answer = correct(ops, order)
    # Then it was run ATTEMPTS times, and ops hear "try again shortly", naming the cause
    assert taken.asked == contention.ATTEMPTS
    assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
    assert answer.json()["error"] == "contention"
    assert "a concurrent order took the stock planned for the new address" in \
        answer.json()["message"]
    # and nothing was written: the order ships from Shenzhen still, no event logged
    assert row_counts(shop) == before and plan_of(shop, order) == {"WH-SHENZHEN": 2}
    # and the same event once the stock is free again corrects it
    taken.refuse(0)
    assert correct(ops, order).status_code == 200
    assert plan_of(shop, order) == {"WH-SHANGHAI": 2}
