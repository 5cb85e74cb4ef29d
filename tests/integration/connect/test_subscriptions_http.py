"""Webhook subscriptions managed over HTTP by operations (signed with the ops secret)."""

from __future__ import annotations

import pytest

from integrations.db.webhooks import WebhookStore
from orderpilot import InvalidInput, OrderPilot
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
