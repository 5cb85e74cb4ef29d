"""Outbox rows → Prefect event envelopes (plain JSON dicts; this package never imports prefect).

Every event concerns the order (`orderpilot.order.o-<n>`), so the Prefect UI's event feed for
one resource is the order's whole timeline; parcels, cases and the buyer are related resources.
The event id is derived from the outbox id (`statemachine.ids.event_id`), so a row published
twice is the same event and the consumer (Prefect's event store and trigger service both dedupe
by id) applies it once.
"""

from __future__ import annotations

import uuid
from typing import Any

from integrations.notifications.masking import known_pii, mask_doc
from statemachine import ids
from statemachine.ids import event_id

AMOUNT_BANDS = ((10_000, "under-100"), (100_000, "100-1000"), (500_000, "1000-5000"))


def amount_band(total_minor: int | None) -> str:
    """A coarse amount label (major units) that automations can match on."""
    if total_minor is None:
        return "unknown"
    for limit, name in AMOUNT_BANDS:
        if total_minor < limit:
            return name
    return "5000-plus"


def resource(kind: str, ref: str, shop: str | None = None) -> str:
    """`orderpilot.order.o-42`; a named shop's `orderpilot.order.staging-o-42`."""
    return f"orderpilot.{kind}.{shop}-{ref}" if shop else f"orderpilot.{kind}.{ref}"


def envelope(row: Any, order: Any | None, follows: uuid.UUID | None,
             source: str = "orderpilot", shop: str | None = None) -> dict[str, Any]:
    """The Prefect event for one outbox row; `order` is its order row (buyer, total, attrs) if
    found. Events leave the store: the payload is masked (reasons and notes are free text a
    buyer or an agent may have written a phone or the address into). A named `shop` leads each
    resource id (`orderpilot.order.staging-o-42`: two stores' o-42 are two resources on a
    shared server) and is a label of its own (`orderpilot.shop`) for automations to match."""
    known = known_pii(getattr(order, "attrs", None)) if order is not None else []
    payload = mask_doc(dict(row.payload or {}), known)
    order_ref = ids.ORDER(row.order_id)
    labels = {"prefect.resource.id": resource("order", order_ref, shop),
              "prefect.resource.name": order_ref, "orderpilot.order-id": order_ref,
              "orderpilot.entity": row.entity,
              "orderpilot.state": str(payload.get("state", "")) or "unknown"}
    if shop:
        labels["orderpilot.shop"] = shop
    related = []
    if order is not None:
        labels["orderpilot.buyer"] = order.buyer_id
        labels["orderpilot.amount-band"] = amount_band(order.total)
        related.append({"prefect.resource.id": resource("buyer", order.buyer_id, shop),
                        "prefect.resource.role": "buyer"})
    if row.entity != "order":
        ref = ids.BY_ENTITY[row.entity](row.entity_id)
        related.append({"prefect.resource.id": resource(row.entity, ref, shop),
                        "prefect.resource.role": row.entity, "prefect.resource.name": ref})
    body = {"id": str(event_id(row.id, source)), "occurred": row.created_at.isoformat(),
            "event": row.event, "resource": labels, "related": related,
            "payload": {**payload, "outbox_id": row.id}}
    if follows is not None:
        body["follows"] = str(follows)
    return body
