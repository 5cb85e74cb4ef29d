"""Talking to the Shopify webhook route of a running server, and reading what it booked."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import select

from integrations.db.records import PAYMENTS
from orderpilot import OrderPilot
from tests.integration.connect.providers import shopify_headers

CANCELLED_AT = "2026-11-11T10:00:00+08:00"


def send(http: httpx.Client, topic: str, payload: dict, webhook_id: str,
         **kw) -> httpx.Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return http.post("/hooks/shopify", content=body,
                     headers=shopify_headers(body, topic, webhook_id, **kw))


def ledger(pilot: OrderPilot) -> list[tuple[str, int, str]]:
    with pilot.context.tx(readonly=True) as tx:
        return [(r.kind, r.amount, r.provider_ref) for r in tx.connection.execute(
            select(PAYMENTS).order_by(PAYMENTS.c.id))]


def refund_owed_alerts(pilot: OrderPilot) -> list[dict]:
    with pilot.context.tx(readonly=True) as tx:
        return [tx.store.sql.doc(r[0]) for r in tx.store.sql.all(
            "SELECT payload FROM outbox WHERE event = 'orderpilot.order.refund_owed' "
            "ORDER BY id")]
