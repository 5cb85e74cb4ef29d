"""A dispute's evidence due date is UTC wherever it is shown — the webhook's answer, the
dispute's events, its history, the Python API — in the transaction that wrote it as after a
reload, whatever offset the provider wrote it with (Shopify writes +08:00 for a shop in China).
Real HTTP server, webhooks signed as Shopify signs them, both stores."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.connect.shopify_http import send
from tests.integration.connect.test_shopify_disputes import paid_order, shopify_dispute

OPENED_DUE, ESCALATED_DUE = "2026-12-10T15:59:59+00:00", "2027-01-05T15:59:59+00:00"


def outbox_due_dates(pilot: Any) -> list[str]:
    with pilot.context.tx(readonly=True) as tx:
        return [(r[0] if isinstance(r[0], dict) else json.loads(r[0]))["due_by"]
                for r in tx.store.sql.all("SELECT payload FROM outbox WHERE event LIKE "
                                          "'orderpilot.dispute.%' ORDER BY id", {})]


def test_a_due_date_written_at_plus_eight_is_utc_in_the_answer_events_history_and_api(
        storefront):
    pilot, http = storefront
    paid_order(http)
    # When Shopify opens an inquiry due 2026-12-10 23:59:59 +08:00
    opened = send(http, "disputes/create", shopify_dispute(kind="inquiry"), "wh-d1")
    # And turns it into a chargeback due 2027-01-05 23:59:59 +08:00
    escalated = send(http, "disputes/update", shopify_dispute(
        evidence_due_by="2027-01-05T23:59:59+08:00"), "wh-d2")
    assert escalated.json()["applied"] is True, escalated.text
    # Then every place that shows a due date shows the same UTC instant, written the same way
    # (before: the escalation's answer, both events and the history said +08:00 — the
    # offset Shopify wrote — while a reload said UTC)
    assert opened.json()["dispute"]["due_by"] == OPENED_DUE
    assert escalated.json()["dispute"]["due_by"] == ESCALATED_DUE
    assert outbox_due_dates(pilot) == [OPENED_DUE, ESCALATED_DUE]
    [escalate] = [h for h in pilot.orders.history("o-1") if h.trigger == "escalate"]
    assert escalate.payload["due_by"] == ESCALATED_DUE
    assert pilot.disputes.get("d-1")["due_by"] == ESCALATED_DUE
