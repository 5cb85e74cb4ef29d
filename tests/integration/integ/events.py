"""Named factories for inbound event bodies."""

from __future__ import annotations

from typing import Any

from tests.factories import order_request


def order_placed(event_id: str = "shop-1", **order: Any) -> dict[str, Any]:
    return {"event_id": event_id, "order": order_request(**order)}


def payment(order: dict[str, Any], event_id: str = "pay-1", type: str = "succeeded",
            **extra: Any) -> dict[str, Any]:
    return {"event_id": event_id, "type": type, "order_id": order["id"],
            "amount": order["total"], "payment_ref": f"ref-{order['id']}", **extra}


def tracking(parcel: dict[str, Any], status: str, event_id: str, **extra: Any) -> dict[str, Any]:
    return {"event_id": event_id, "carrier": parcel["carrier"],
            "tracking_no": parcel["tracking_no"], "status": status, **extra}
