"""`POST /v1/ops/orders/{id}/notes`: a note sent with its id is written once (a resend answers
as the first did); a note's transaction that collides with another writer is run again under
the service's retry policy, as every command is, instead of answering 503. The process races
over HTTP are races/test_http_command_races.py."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy.exc import OperationalError

from integrations.db import records
from orderpilot import OrderPilot
from orderpilot.api_integrations import notes
from tests.integration.integ.events import order_placed
from tests.integration.integ.server import Client, row_counts

MESSAGE = {"text": "买家来电：请改为周六送货，收件人王芳 13800138000", "author": "cs-li",
           "kind": "message"}


def placed(client: Client) -> str:
    response = client.post("/v1/shop/orders", order_placed("shop-n1", quantity=1))
    assert response.status_code == 201, response.text
    return response.json()["order"]["id"]


def texts(shop: OrderPilot, order_id: str) -> list[str]:
    return [n.text for n in notes(shop, order_id)]


def test_a_note_sent_twice_under_its_id_is_written_once_and_answered_the_same(client, shop):
    # Given an order
    order_id = placed(client)
    # When the shop's message relay sends a buyer's message, and sends it again
    first = client.post(f"/v1/ops/orders/{order_id}/notes", {"event_id": "msg-1", **MESSAGE})
    again = client.post(f"/v1/ops/orders/{order_id}/notes", {"event_id": "msg-1", **MESSAGE})
    # Then one note is written, and the resend is answered with it, marked a replay
    assert (first.status_code, again.status_code) == (201, 201), (first.text, again.text)
    assert again.json() == first.json() and again.headers["idempotent-replay"] == "true"
    assert "idempotent-replay" not in first.headers
    assert texts(shop, order_id) == [MESSAGE["text"]]
    # and a note without an id is a command: each one sent is written
    for _ in range(2):
        plain = client.post(f"/v1/ops/orders/{order_id}/notes",
                            {"text": "已回电", "author": "cs-li"})
        assert plain.status_code == 201 and "idempotent-replay" not in plain.headers
    assert texts(shop, order_id) == [MESSAGE["text"], "已回电", "已回电"]


def test_a_note_id_sent_again_with_another_text_is_refused_and_writes_nothing(client, shop):
    order_id = placed(client)
    assert client.post(f"/v1/ops/orders/{order_id}/notes",
                       {"event_id": "msg-2", **MESSAGE}).status_code == 201
    before = row_counts(shop)
    other = client.post(f"/v1/ops/orders/{order_id}/notes",
                        {"event_id": "msg-2", **MESSAGE, "text": "另一条"})
    assert other.status_code == 409 and other.json()["error"] == "idempotency_conflict"
    assert row_counts(shop) == before


def test_a_note_for_an_order_that_does_not_exist_is_404_and_logs_nothing(client, shop):
    before = row_counts(shop)
    missing = client.post("/v1/ops/orders/o-999/notes", {"event_id": "msg-3", **MESSAGE})
    assert missing.status_code == 404, missing.text
    assert row_counts(shop) == before


def _collision(url: str) -> OperationalError:
    """What the driver raises when a write collides: SQLite's busy timeout ran out, or
    PostgreSQL chose this transaction as a deadlock's victim."""
    orig: Exception = sqlite3.OperationalError("database is locked") if url.startswith(
        "sqlite") else psycopg.errors.DeadlockDetected("deadlock detected")
    return OperationalError("INSERT INTO order_notes ...", {}, orig)


@pytest.mark.parametrize("event_id", [None, "msg-4"], ids=["command", "with-id"])
def test_a_note_whose_transaction_collides_once_is_run_again_and_written_once(
        client, shop, monkeypatch, event_id):
    # Given an order, and the store refusing the next note's write as a collision
    order_id = placed(client)
    real, collisions = records.note_add, [_collision(str(shop.context.engine.url))]

    def note_add(*args, **kwargs):
        if collisions:
            raise collisions.pop()
        return real(*args, **kwargs)

    monkeypatch.setattr(records, "note_add", note_add)
    # When ops post a note
    sent = {"event_id": event_id, **MESSAGE} if event_id else MESSAGE
    answer = client.post(f"/v1/ops/orders/{order_id}/notes", sent)
    # Then it is run again: 201, one note (on main, without an id: 503 contention)
    assert answer.status_code == 201, answer.text
    assert collisions == [] and texts(shop, order_id) == [MESSAGE["text"]]
