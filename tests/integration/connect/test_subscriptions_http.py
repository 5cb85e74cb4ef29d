"""Webhook subscriptions managed over HTTP by operations (signed with the ops secret)."""

from __future__ import annotations

import threading
import time

import pytest

from integrations.db import webhooks as webhook_rows
from integrations.db.engine import make_engine
from integrations.db.webhooks import WebhookStore
from orderpilot import InvalidInput, OrderPilot
from statemachine.risk_port import approve_everything
from tests.factories import paid_order, stock
from tests.integration.integ.server import Client, row_counts, running_server


def test_ops_add_list_pause_resend_and_remove_a_subscription_over_http(sqlite_url, live_clock):
    pilot = OrderPilot(sqlite_url, clock=live_clock)  # signatures are checked on this clock
    with running_server(pilot) as base_url:
        client = Client(base_url)
        # When operations add a subscription
        added = client.post("/v1/ops/webhooks", {"url": "https://erp.example.cn/hooks",
                                                 "events": ["orderpilot.order.*"],
                                                 "description": "ERP", "by": "ops-amy"})
        sub = added.json()
        # Then it is created with its secret shown once, and listed without it
        assert added.status_code == 201 and sub["secret"].startswith("whsec_")
        listed = client.get("/v1/ops/webhooks").json()
        assert [s["id"] for s in listed] == [sub["id"]] and "secret" not in listed[0]
        # pausing, the log, re-sending a dead letter and removing work by id
        assert client.post(f"/v1/ops/webhooks/{sub['id']}/pause", {}).json()["active"] is False
        with pilot.context.tx() as tx:  # a dead letter, as the relay leaves one
            tx.store.sql.run("INSERT INTO webhook_deliveries (subscription_id, outbox_id, "
                             "order_id, event, status, attempts, next_attempt_at, created_at) "
                             "VALUES (:s, 1, 1, 'orderpilot.order.paid', 'dead', 8, :at, :at)",
                             {"s": int(sub["id"][4:]), "at": pilot.clock.now()})
        log = client.get(f"/v1/ops/webhooks/{sub['id']}/deliveries?status=dead").json()
        assert [d["status"] for d in log] == ["dead"]
        assert client.post(f"/v1/ops/webhooks/{sub['id']}/resend", {}).json() == {"queued": 1}
        assert client.send("DELETE", f"/v1/ops/webhooks/{sub['id']}").status_code == 204
        assert client.send("DELETE", "/v1/ops/webhooks/sub-1").status_code == 404  # built-in
        # the log of a subscription that is gone, or never was, is not found (not an empty log)
        for gone in (sub["id"], "sub-0"):
            assert client.get(f"/v1/ops/webhooks/{gone}/deliveries").status_code == 404, gone
        # and bad input or a missing signature is refused
        bad = client.post("/v1/ops/webhooks", {"url": "ftp://x", "events": ["order.*"]})
        unsigned = client.post("/v1/ops/webhooks", {"url": "https://x.cn"}, signed=False)
        client.http.close()
    assert bad.status_code == 422 and set(bad.json()["problems"]) == {"url", "events"}
    assert unsigned.status_code == 401
    with pilot.context.tx(readonly=True) as tx:
        assert [s["kind"] for s in WebhookStore(tx.store.sql).subscriptions()] == [
            "notices", "tracking"]
    pilot.close()


@pytest.mark.parametrize(("change", "field"), [
    ({"by": "ops\x00amy"}, "by"),  # SQLite kept it, PostgreSQL refused it without a name
    ({"url": "https://erp.example.cn/" + "h" * 2000}, "url"),  # SQLite kept it past varchar
    ({"url": "https://erp.example.cn/回调/" + "订单" * 300}, "url"),  # 5,400 once encoded
])
def test_a_subscription_the_store_cannot_keep_is_refused_naming_the_field(
        any_url, live_clock, change, field):
    pilot = OrderPilot(any_url, clock=live_clock)
    before = row_counts(pilot)
    with running_server(pilot) as base_url:
        client = Client(base_url)
        response = client.post("/v1/ops/webhooks", {"url": "https://erp.example.cn/hooks",
                                                    **change})
        client.http.close()
    assert response.status_code == 422, response.text
    assert list(response.json()["problems"]) == [field]
    assert row_counts(pilot) == before
    pilot.close()


def test_the_python_api_refuses_a_subscriber_url_too_long_once_encoded(any_pilot):
    with pytest.raises(InvalidInput) as refused:
        any_pilot.webhooks.subscribe("https://erp.example.cn/" + "订单" * 300)
    assert "percent-encoded" in refused.value.problems["url"]


@pytest.mark.postgres
def test_a_subscription_that_waits_out_a_slow_outbox_writer_is_created_not_refused_503(
        postgres_url, live_clock, monkeypatch):
    """PostgreSQL only: creating a subscription waits for the outbox's writers a bounded time
    per attempt (db/webhooks.py); a writer that is merely slow — still writing after one
    attempt's wait, done before the retry budget is spent — is waited out (service/
    contention.py), as the Python API waits it out: ops hear 201, not 503."""
    monkeypatch.setattr(webhook_rows, "SUBSCRIBE_LOCK_WAIT_MS", 200)
    pilot = OrderPilot(postgres_url, clock=live_clock, risk_check=approve_everything)
    stock(pilot)
    order = paid_order(pilot, buyer="b-hz-1")
    engine = make_engine(postgres_url)
    writer = engine.connect()
    with running_server(pilot) as base_url:
        client = Client(base_url)
        try:
            # Given a transition's transaction that wrote the outbox, and commits once the
            # subscription has waited for it longer than one attempt may (0.2 s)
            writer.begin()
            writer.exec_driver_sql("UPDATE outbox SET published_at = published_at WHERE id = "
                                   "(SELECT MAX(id) FROM outbox)")
            done = threading.Thread(target=_commit_after_a_waiting_lock_request,
                                    args=(pilot, writer, 0.5))
            done.start()
            # When ops add a subscription over HTTP meanwhile
            added = client.post("/v1/ops/webhooks", {"url": "https://erp.example.cn/hooks",
                                                     "by": "ops-mei"})
            done.join()
        finally:
            client.http.close()
            writer.close()
            engine.dispose()
    # Then it is created once the writer is done (201), and it is the only one
    assert added.status_code == 201, added.text
    assert [s.id for s in pilot.webhooks.list()] == [added.json()["id"]]
    assert pilot.orders.get(order.id).state == "paid"
    pilot.close()


def _commit_after_a_waiting_lock_request(pilot: OrderPilot, writer, after: float) -> None:
    """Commit `writer` `after` seconds past the moment a session first waits for the outbox."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with pilot.context.tx(readonly=True) as tx:
            if tx.store.sql.one("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = "
                                "l.relation WHERE c.relname = 'outbox' AND NOT l.granted")[0]:
                break
        time.sleep(0.01)
    time.sleep(after)
    writer.commit()


def test_a_removed_subscriptions_number_is_never_given_again_so_a_second_removal_is_404(
        any_url, live_clock):
    # Given two subscriptions, the newer one removed, and then another one added
    pilot = OrderPilot(any_url, clock=live_clock)
    with running_server(pilot) as base_url:
        client = Client(base_url)
        erp, wms = (client.post("/v1/ops/webhooks", {"url": url, "by": "ops-mei"}).json()["id"]
                    for url in ("https://erp.example.cn/hooks", "https://wms.example.cn/hooks"))
        assert client.send("DELETE", f"/v1/ops/webhooks/{wms}").status_code == 204
        added = client.post("/v1/ops/webhooks", {"url": "https://tms.example.cn/hooks",
                                                 "by": "ops-mei"}).json()["id"]
        # When the removal of the old one is sent again (a script's retry, a second server)
        again = client.send("DELETE", f"/v1/ops/webhooks/{wms}")
        client.http.close()
    # Then the new subscription has a number of its own, and the resend removes nothing
    # (on SQLite before migration 0036: the new one had the removed one's number, and the
    # resend removed it, 204)
    assert added != wms and again.status_code == 404, (added, wms, again.status_code)
    assert sorted(s.id for s in pilot.webhooks.list()) == sorted([erp, added])
    pilot.close()
