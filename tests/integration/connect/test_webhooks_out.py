"""Outbound webhooks against a real receiver that verifies Standard Webhooks signatures:
at least once, in order per order, retried with backoff, dead-lettered and re-sent."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from integrations.db import webhooks as webhook_rows
from integrations.db.engine import make_engine
from integrations.db.repository import OUTBOX
from orderpilot import Contention, OrderPilot
from statemachine.ids import message_id
from tests.factories import paid_order, shipped_order
from tests.integration.connect.conftest import open_shop
from tests.integration.connect.receiver import Receiver


def outbox_ids_by_order(pilot: OrderPilot, prefix: str = "orderpilot.") -> dict[str, list[str]]:
    with pilot.context.tx(readonly=True) as tx:
        rows = tx.connection.execute(select(OUTBOX.c.id, OUTBOX.c.order_id, OUTBOX.c.event)
                                     .order_by(OUTBOX.c.id))
        by_order: dict[str, list[str]] = {}
        for outbox_id, order_id, event in rows:
            if event.startswith(prefix):
                by_order.setdefault(f"o-{order_id}", []).append(message_id(outbox_id))
        return by_order


def test_every_event_reaches_the_subscriber_signed_once_and_in_order_per_order(shop):
    # Given a subscriber for every event, then orders placed, paid and shipped
    receiver = Receiver("")
    sub = shop.webhooks.subscribe(receiver.url, description="ERP")
    receiver.secret = sub.secret
    orders = [shipped_order(shop, buyer=f"b-{n}") for n in range(3)]
    orders.append(paid_order(shop, buyer="b-9"))
    relay = shop.webhooks.relay()
    try:
        # When the relay drains the outbox
        relay.drain()
    finally:
        relay.close()
        receiver.close()
    # Then every event arrived once, verified by standardwebhooks, in outbox order per order
    assert receiver.forged == 0 and receiver.refused == []
    assert len(receiver.accepted) == len(receiver.applied())
    assert receiver.by_order() == outbox_ids_by_order(shop)
    assert {m["type"] for m in receiver.accepted} >= {
        "orderpilot.order.created", "orderpilot.order.paid", "orderpilot.shipment.label_created"}
    # and the delivery log says so
    log = shop.webhooks.deliveries(sub.id, limit=1000)
    assert {d.status for d in log} == {"delivered"} and all(d.attempts == 1 for d in log)
    assert shop.webhooks.list()[0].deliveries == {"pending": 0, "delivered": len(log), "dead": 0}


def test_failed_attempts_are_retried_after_their_backoff_and_order_is_kept(shop, live_clock):
    # Given a receiver that refuses the first attempt of every third message
    receiver = Receiver("", decide=lambda m, attempt: 503 if attempt == 1 and
                        int(m["id"][-2:], 16) % 3 == 0 else 200)
    sub = shop.webhooks.subscribe(receiver.url, events=["orderpilot.order.*"])
    receiver.secret = sub.secret
    for n in range(6):
        paid_order(shop, buyer=f"b-{n}")
    relay = shop.webhooks.relay()
    try:
        # When the relay drains, and again each time the first retry delay (5 s) has passed
        relay.drain()
        waiting = shop.webhooks.deliveries(sub.id, status="pending", limit=1000)
        for _ in range(10):
            live_clock.advance(seconds=5)
            relay.drain()
    finally:
        relay.close()
        receiver.close()
    # Then some deliveries had to wait, and in the end each event was applied once, in order
    assert waiting and receiver.refused
    assert receiver.by_order() == outbox_ids_by_order(shop, "orderpilot.order.")
    retried = [d for d in shop.webhooks.deliveries(sub.id, limit=1000) if d.attempts == 2]
    assert retried and all(d.last_error is None and d.status == "delivered" for d in retried)


def test_a_chain_that_keeps_failing_is_dead_lettered_and_resent_in_order(shop, live_clock):
    # Given a receiver that refuses everything about one order
    broken = {"o-1"}
    receiver = Receiver("", decide=lambda m, a: 500 if m["data"]["order_id"] in broken else 200)
    sub = shop.webhooks.subscribe(receiver.url, events=["orderpilot.order.*"])
    receiver.secret = sub.secret
    paid_order(shop, buyer="b-1")
    paid_order(shop, buyer="b-2")
    relay = shop.webhooks.relay()
    try:
        # When the relay tries three times (5 s and 60 s apart) and the last try fails too
        relay.drain()
        live_clock.advance(seconds=5)
        relay.drain()
        live_clock.advance(seconds=60)
        relay.drain()
        # Then the first event of o-1 is dead, its later events wait behind it, o-2 arrived
        dead = shop.webhooks.deliveries(sub.id, status="dead")
        waiting = shop.webhooks.deliveries(sub.id, status="pending", order_id="o-1")
        assert [d.event for d in dead] == ["orderpilot.order.created"]
        assert dead[0].attempts == 3 and dead[0].last_status_code == 500
        assert waiting and all(d.attempts == 0 for d in waiting)
        assert set(receiver.by_order()) == {"o-2"}
        # When the receiver is fixed and the dead letters are re-sent
        broken.clear()
        assert shop.webhooks.resend(subscription_id=sub.id) == 1
        relay.drain()
    finally:
        relay.close()
        receiver.close()
    # Then o-1's events all arrive, in order, and nothing is left
    assert receiver.by_order() == outbox_ids_by_order(shop, "orderpilot.order.")
    assert shop.webhooks.deliveries(sub.id, status="pending") == []


def test_filters_pick_events_and_a_subscription_hears_only_what_happens_after_it(shop):
    # Given an order paid before any subscription, then a parcel-only subscriber
    early = paid_order(shop, buyer="b-early")
    receiver = Receiver("")
    sub = shop.webhooks.subscribe(receiver.url, events=["orderpilot.shipment.*"])
    receiver.secret = sub.secret
    shipped = shipped_order(shop, buyer="b-late")
    for trigger in ("start_picking", "pack", "ship"):
        shop.orders.fire(early.id, trigger)
    relay = shop.webhooks.relay()
    try:
        relay.drain()
    finally:
        relay.close()
        receiver.close()
    # Then it got exactly the two parcels' label events
    assert sorted((m["data"]["order_id"], m["type"]) for m in receiver.applied()) == [
        (early.id, "orderpilot.shipment.label_created"),
        (shipped.id, "orderpilot.shipment.label_created")]


def test_a_slow_receiver_never_holds_up_a_transition(shop):
    # Given a receiver that hangs until released, and a relay sending to it in the background
    release = threading.Event()
    receiver = Receiver("", decide=lambda m, a: release.wait(30) and 200)
    sub = shop.webhooks.subscribe(receiver.url)
    receiver.secret = sub.secret
    first = paid_order(shop, buyer="b-1")
    relay = shop.webhooks.relay()
    sending = threading.Thread(target=relay.round)
    sending.start()
    try:
        while not receiver.attempts:  # the relay is now waiting on the receiver
            threading.Event().wait(0.01)
        # When orders move while the receiver hangs
        second = paid_order(shop, buyer="b-2")
        moved = shop.orders.fire(first.id, "start_picking")
        # Then the transitions are done before the receiver answered anything
        assert not release.is_set() and moved.state == "picking"
        assert shop.orders.get(second.id).state == "paid"
    finally:
        release.set()
        sending.join(30)
        relay.drain()
        relay.close()
        receiver.close()
    assert receiver.by_order() == outbox_ids_by_order(shop)


@pytest.mark.postgres
def test_an_event_committed_after_a_subscription_was_created_reaches_it(postgres_url,
                                                                        live_clock):
    """PostgreSQL only: on SQLite a writer holds the store until it commits (ids are taken in
    commit order), so no subscription can be created between an event's INSERT and commit."""
    shop = open_shop(postgres_url, live_clock)
    try:
        _an_event_committed_after_a_subscription_was_created_reaches_it(shop, postgres_url)
    finally:
        shop.close()


def _an_event_committed_after_a_subscription_was_created_reaches_it(shop, url):
    # Given an order, and a transaction that has written an event (its id assigned) but not
    # committed yet, while a later event of the same order commits (PostgreSQL: ids are taken
    # at INSERT, transactions commit in any order)
    order = paid_order(shop, buyer="b-1")
    with shop.context.tx(readonly=True) as tx:
        last = tx.connection.execute(select(OUTBOX).order_by(OUTBOX.c.id.desc())).mappings()
        row = dict(next(iter(last)))
    engine = make_engine(url)
    writer = engine.connect()
    writer.begin()
    pending = writer.execute(OUTBOX.insert().values(
        {k: v for k, v in row.items() if k not in ("id", "published_at", "fanned_out_at")}
    ).returning(OUTBOX.c.id)).scalar_one()
    paid_order(shop, buyer="b-2")
    # When a subscription is created meanwhile, and then the writer commits
    created: list[str] = []
    subscribing = threading.Thread(target=lambda: created.append(shop.webhooks.subscribe(
        "https://erp.example.cn/hooks", events=["orderpilot.*"]).id))
    subscribing.start()
    subscribing.join(timeout=1.0)
    before = not subscribing.is_alive()  # the subscription committed before the event did
    writer.commit()
    subscribing.join()
    writer.close()
    engine.dispose()
    with shop.context.tx(readonly=True) as tx:
        mark = tx.store.sql.one("SELECT MAX(id) FROM outbox")[0]
    shop.orders.fire(order.id, "start_picking")
    relay = shop.webhooks.relay()
    try:
        relay.fan_out()
    finally:
        relay.close()
    # Then every event committed after the subscription reaches it, the late one included
    # (it got only the later event: the late one was behind its start, and lost for it)
    with shop.context.tx(readonly=True) as tx:
        got = [r[0] for r in tx.store.sql.all(
            "SELECT outbox_id FROM webhook_deliveries WHERE subscription_id = :s ORDER BY "
            "outbox_id", {"s": int(created[0].split("-")[1])})]
        after = [r[0] for r in tx.store.sql.all(
            "SELECT id FROM outbox WHERE id > :m ORDER BY id", {"m": mark})]
    assert got == ([pending] if before else []) + after, (before, pending, got)


@pytest.mark.postgres
def test_a_writer_idle_in_its_transaction_bounds_subscribing_and_holds_up_no_transition(
        postgres_url, live_clock, monkeypatch):
    """PostgreSQL only: creating a subscription waits for the outbox writers (SHARE lock), and
    transitions queue behind that wait. The wait is bounded and ends as `Contention`."""
    monkeypatch.setattr(webhook_rows, "SUBSCRIBE_LOCK_WAIT_MS", 500, raising=False)
    shop = open_shop(postgres_url, live_clock)
    engine = make_engine(postgres_url)
    writer = engine.connect()
    try:
        _subscribing_gives_up_on_an_idle_writer(shop, writer)
    finally:
        writer.rollback()
        writer.close()
        engine.dispose()
        shop.close()


def _subscribing_gives_up_on_an_idle_writer(shop, writer):
    # Given a paid order, and a session that wrote the outbox and sits idle in its transaction
    order = paid_order(shop, buyer="b-1")
    writer.begin()
    writer.exec_driver_sql("UPDATE outbox SET published_at = published_at WHERE id = "
                           "(SELECT MAX(id) FROM outbox)")
    # When staff create a subscription, and a transition starts while it waits
    outcome: list[object] = []

    def subscribe() -> None:
        try:
            outcome.append(shop.webhooks.subscribe("https://erp.example.cn/hooks"))
        except Exception as error:  # noqa: BLE001 - the test looks at what the caller got
            outcome.append(error)

    started = time.monotonic()
    subscribing = threading.Thread(target=subscribe)
    subscribing.start()
    _wait_for_a_lock_request(shop, "outbox")
    picking = threading.Thread(target=lambda: shop.orders.fire(order.id, "start_picking"))
    picking.start()
    subscribing.join(timeout=5)
    picking.join(timeout=5)
    waited = time.monotonic() - started
    stalled = subscribing.is_alive() or picking.is_alive()
    writer.rollback()  # on the code before, this is what let both go on
    subscribing.join()
    picking.join()
    # Then the creation gave up after the bounded wait, as the documented error, nothing was
    # written, and the transition went through while the writer was still idle
    assert not stalled, f"still waiting after {waited:.1f} s"
    assert isinstance(outcome[0], Contention), outcome
    assert "lock timeout" in str(outcome[0]), outcome
    assert shop.webhooks.list() == []
    assert shop.orders.get(order.id).state == "picking"


def _wait_for_a_lock_request(shop, table: str) -> None:
    """Until some session waits for a lock on `table`."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with shop.context.tx(readonly=True) as tx:
            if tx.store.sql.one("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = "
                                "l.relation WHERE c.relname = :t AND NOT l.granted",
                                {"t": table})[0]:
                return
        time.sleep(0.02)
    raise AssertionError(f"nobody waited for a lock on {table}")
