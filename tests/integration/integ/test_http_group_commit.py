"""The webhook API in group-commit mode: a burst shares transactions, every answer stands."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from orderpilot import OrderPilot
from statemachine.risk_port import approve_everything
from tests.factories import stock
from tests.integration.integ.events import order_placed, payment
from tests.integration.integ.server import Client, running_server


def test_a_burst_of_placements_on_scarce_stock_gets_one_true_answer_each(any_url):
    # Given 25 units and the API applying concurrent events in shared transactions
    shop = OrderPilot(any_url, risk_check=approve_everything)
    stock(shop, quantity=25)
    with running_server(shop, group_commit=True) as base_url:
        client = Client(base_url)
        # When 40 different buyers place one-unit orders at once, and 10 events come twice
        bodies = [order_placed(f"burst-{n}", buyer=f"b-{n}", quantity=1) for n in range(40)]
        with ThreadPoolExecutor(16) as pool:
            responses = list(pool.map(lambda b: client.post("/v1/shop/orders", b),
                                      bodies + bodies[:10]))
        placed = [r.json()["order"] for r in responses[:40] if r.status_code == 201]
        paid = [client.post("/v1/payments/events", payment(o, event_id=f"pay-{o['id']}"))
                for o in placed[:5]]
        client.http.close()
    # Then 25 were placed (a 409 each for the rest), each 201 names an order that holds a unit,
    # a repeated event replays its first answer, and payments went through
    assert sorted(r.status_code for r in responses[:40]) == [201] * 25 + [409] * 15
    assert {r.json()["error"] for r in responses[:40] if r.status_code == 409} == \
        {"insufficient_stock"}
    assert [shop.orders.get(o["id"]).state for o in placed] == \
        ["paid"] * 5 + ["awaiting_payment"] * 20
    for first, again in zip(responses[:10], responses[40:], strict=True):
        assert again.status_code == first.status_code
        if first.status_code == 201:
            assert again.json()["order"]["id"] == first.json()["order"]["id"]
    assert [r.status_code for r in paid] == [200] * 5
    level = shop.inventory.level(sku="SKU-1", warehouse="WH-1")
    assert (level.on_hand, level.reserved) == (20, 20)
    assert shop.inventory.reconcile() == []
    shop.close()
