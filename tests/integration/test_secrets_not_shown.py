"""A URL that carries a password is never shown with it: not in an error, not on screen. The
store, the Prefect API and the demo's store are named with the password as ***."""

from __future__ import annotations

import pytest

from integrations.events.relay import PrefectHttpSink, PublishFailed
from orderpilot import OrderPilot
from orderpilot.demo_store import claim_demo_store
from orderpilot.up import Server, summary
from statemachine.errors import InvalidInput

SECRET = "hunter2pw"


def test_an_event_sink_that_refuses_names_its_url_without_the_password():
    # Given a Prefect API URL with credentials in it, where nothing answers
    sink = PrefectHttpSink(f"http://relay:{SECRET}@127.0.0.1:9/api", attempts=1, backoff=0)
    # When a batch cannot be delivered
    with sink, pytest.raises(PublishFailed) as failed:
        sink.publish([{"id": "e-1"}])
    # Then the error names the server, not the password
    assert "http://relay:***@127.0.0.1:9/api/events" in str(failed.value)
    assert SECRET not in str(failed.value)


def test_up_shows_the_order_store_without_its_password():
    lines = summary(Server("http://127.0.0.1:4200/api", "reused"),
                    f"postgresql://shop:{SECRET}@db.internal/orders", False, None)
    assert any("postgresql://shop:***@db.internal/orders" in line for line in lines)
    assert not any(SECRET in line for line in lines)


def test_the_demo_refuses_a_real_store_without_showing_its_password(tmp_path):
    # Given a store with an order no demo made
    pilot = OrderPilot(f"sqlite:///{tmp_path / 'shop.db'}")
    pilot.inventory.receive(sku="SKU-1", warehouse="WH-1", quantity=5)
    pilot.orders.place(buyer_id="b-1", lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": 5}],
                       shipping_address={"province": "浙江省", "city": "杭州市",
                                         "street": "文三路 18 号"})
    # When the demo is pointed at it (by a URL with a password)
    with pytest.raises(InvalidInput) as refused:
        claim_demo_store(pilot, f"postgresql://shop:{SECRET}@db.internal/orders")
    pilot.close()
    # Then the refusal names the store, not its password
    assert "postgresql://shop:***@db.internal/orders holds 1 order(s)" in str(refused.value)
    assert SECRET not in str(refused.value)
