"""Small named factories for test data (Given … steps read as sentences with them)."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from orderpilot import OrderPilot

ADDRESS = {"street": "18 Wensan Road", "city": "Hangzhou", "recipient": "Li Lei",
           "phone": "13800000000"}


def stock(pilot: OrderPilot, sku: str = "SKU-1", warehouse: str = "WH-1",
          quantity: int = 10) -> None:
    pilot.inventory.receive(sku=sku, warehouse=warehouse, quantity=quantity)


def order_request(buyer: str = "b-1", sku: str = "SKU-1", quantity: int = 2,
                  unit_price: int = 1999, **extra: Any) -> dict[str, Any]:
    return {"buyer_id": buyer, "lines": [{"sku": sku, "quantity": quantity,
                                          "unit_price": unit_price}],
            "shipping_address": {**ADDRESS, "phone": buyer_phone(buyer)},
            "device_id": f"d-{buyer}", "ip": buyer_ip(buyer), **extra}


def buyer_ip(buyer: str) -> str:
    """Each buyer on their own device and IP, so tests about other things stay clear of the
    device/IP-sharing risk signals."""
    return f"198.51.100.{zlib.crc32(buyer.encode()) % 250 + 1}"


def buyer_phone(buyer: str) -> str:
    """Each buyer's parcels to their own mobile (b-1's is ADDRESS's), so tests about other
    things stay clear of the phone-sharing rule (phone_velocity)."""
    if buyer == "b-1":
        return ADDRESS["phone"]
    return f"139{zlib.crc32(buyer.encode()) % 10**8:08d}"


def placed_order(pilot: OrderPilot, **kwargs: Any):
    return pilot.orders.place(**order_request(**kwargs))


def paid_order(pilot: OrderPilot, **kwargs: Any):
    order = placed_order(pilot, **kwargs)
    return pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"p-{order.id}")


def shipped_order(pilot: OrderPilot, **kwargs: Any):
    order = paid_order(pilot, **kwargs)
    for trigger in ("start_picking", "pack", "ship"):
        order = pilot.orders.fire(order.id, trigger)
    return order


def delivered_order(pilot: OrderPilot, **kwargs: Any):
    order = shipped_order(pilot, **kwargs)
    for parcel in pilot.shipments.of_order(order.id):
        for trigger in ("pick_up", "scan", "deliver"):
            pilot.shipments.fire(parcel.id, trigger)
    return pilot.orders.get(order.id)


@contextmanager
def opened_before_one_case_per_unit() -> Iterator[None]:
    """Cases opened inside this block may name units another open case holds, as stores
    written before cases were refused on such units still hold them: what guards a later step
    (a refund) must still refuse them."""
    from integrations.service import aftersales

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(aftersales, "_refuse_units_in_open_cases", lambda *args: None)
        yield
