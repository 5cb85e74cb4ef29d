"""Demos play on demo stores only (orderpilot/demo_store.py), and the store keeps one identity
(integrations/events/identity.py): both are rows of the inbox, read and written through the
store (integrations/db/), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from integrations.events.identity import new_store_id, store_id
from orderpilot import OrderPilot, api
from orderpilot.demo_store import claim_demo_store
from orderpilot.up import _start_demo
from statemachine.errors import InvalidInput
from tests.factories import placed_order, stock


def test_a_new_store_becomes_a_demo_store_and_stays_one_with_orders_in_it(any_pilot):
    claim_demo_store(any_pilot, "the store")
    stock(any_pilot)
    placed_order(any_pilot)
    claim_demo_store(any_pilot, "the store")  # a demo store with demo orders: still fine


def test_a_store_with_orders_no_demo_made_is_refused_naming_db(any_pilot):
    stock(any_pilot)
    placed_order(any_pilot)
    with pytest.raises(InvalidInput) as refused:
        claim_demo_store(any_pilot, "sqlite:///shop.db")
    assert "sqlite:///shop.db holds 1 order(s) no demo made" in refused.value.problems["db"]
    with pytest.raises(InvalidInput):  # nothing was marked: refused again
        claim_demo_store(any_pilot, "sqlite:///shop.db")


def test_the_store_id_is_made_once_and_kept(any_pilot):
    first = store_id(any_pilot.context)
    assert len(first) == 10 and int(first, 16) >= 0
    assert store_id(any_pilot.context) == first


def test_a_new_identity_replaces_the_kept_one_and_is_kept_in_turn(any_pilot):
    first = store_id(any_pilot.context)
    old, new = new_store_id(any_pilot.context)
    assert old == first and new != first and len(new) == 10 and int(new, 16) >= 0
    assert store_id(any_pilot.context) == new
    assert new_store_id(any_pilot.context)[0] == new  # and it can be replaced again


def test_the_live_demo_closes_its_store_when_it_stops(tmp_path, monkeypatch):
    # Given `orderpilot up --demo`'s shop trading on its own store
    opened: list[OrderPilot] = []

    class Recorded(OrderPilot):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            opened.append(self)

    monkeypatch.setattr(api, "OrderPilot", Recorded)
    stop = threading.Event()
    shop = _start_demo(f"sqlite:///{tmp_path / 'demo-shop.db'}", stop)
    # When it is stopped
    stop.set()
    shop.join(timeout=10)
    # Then its store holds no connection open
    [store] = opened
    assert not shop.is_alive() and store.context.units._open == 0


def test_a_store_the_live_demo_refuses_is_closed(sqlite_url, monkeypatch):
    opened: list[OrderPilot] = []

    class Recorded(OrderPilot):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            opened.append(self)

    pilot = OrderPilot(sqlite_url)
    stock(pilot)
    placed_order(pilot)
    pilot.close()
    monkeypatch.setattr(api, "OrderPilot", Recorded)
    with pytest.raises(InvalidInput):
        _start_demo(sqlite_url, threading.Event())
    [store] = opened
    assert store.context.units._open == 0
