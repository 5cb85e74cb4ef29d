"""The same event delivered several times at once still applies once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.integration.integ.events import order_placed, payment
from tests.integration.integ.test_http_events import placed

COPIES = 8


def post_concurrently(client, path, body):
    with ThreadPoolExecutor(COPIES) as pool:
        return list(pool.map(lambda _: client.post(path, body), range(COPIES)))


def test_concurrent_copies_of_a_payment_event_pay_the_order_once(client, shop):
    # Given an order awaiting payment
    order = placed(client)
    # When the gateway fires the same event eight times at once
    responses = post_concurrently(client, "/v1/payments/events", payment(order))
    # Then every copy gets 200, one applied it and the rest are replays of it
    assert [r.status_code for r in responses] == [200] * COPIES, [r.text for r in responses]
    assert sum(r.json()["duplicate"] is False for r in responses) == 1
    pays = [h for h in shop.orders.history(order["id"]) if h.trigger == "pay"]
    assert len(pays) == 1


def test_concurrent_copies_of_an_order_placement_place_one_order(client, shop):
    responses = post_concurrently(client, "/v1/shop/orders", order_placed("shop-c", quantity=4))
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.json()["order"]["id"] for r in responses}) == 1
    assert shop.inventory.level(sku="SKU-1", warehouse="WH-1").reserved == 4
