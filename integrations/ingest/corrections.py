"""`POST /v1/ops/orders/{id}/address`: a person corrects an order's address before it ships,
as `pilot.orders.correct_address` does (service/address_corrections.py), applied once per
event id like every inbound event (`once`: a repeated id answers as the first did)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.ingest.events import AddressCorrectionIn
from integrations.ingest.once import Applied, Outcome, once
from integrations.service import address_corrections
from integrations.service.context import Context, Tx
from integrations.service.inputs import parse_id
from integrations.service.views import OrderView

SAME = "the order ships to this address already: nothing changed"


def address_corrected(ctx: Context, order_id: str, event: AddressCorrectionIn) -> Outcome:
    """Checked before the transaction (422 naming `address.<field>`, nothing written); then
    corrected, refused by placement's address rules (422), or by the order's state (409).
    The address the order has already: 200 with `changed` false, the order as it was."""
    number = parse_id("order_id", order_id, "o")
    request = address_corrections.prepared(event.address.model_dump(exclude_none=True),
                                           event.by, event.reason)

    def apply(tx: Tx, _: Any, now: datetime) -> Applied:
        done = address_corrections.correct_in(ctx, tx, number, request, now)
        return Applied(number, done.changed,
                       {"order": OrderView.of(done.order).model_dump(mode="json"),
                        "changed": done.changed}, None if done.changed else SAME)

    return once(ctx, "ops", "order.address_corrected", event, apply)
