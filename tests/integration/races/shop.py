"""Given-steps for the race trials: each trial builds its own orders on fresh skus, through the
test's own pilot, before the workers race on them."""

from __future__ import annotations

from datetime import timedelta

from orderpilot import OrderPilot
from tests.conftest import START
from tests.integration.races.actions import ADDRESS

PRICE = 1999


def line(sku: str, quantity: int = 1) -> dict:
    return {"sku": sku, "quantity": quantity, "unit_price": PRICE}


def awaiting_payment(pilot: OrderPilot, trial: int, lines: int = 1, warehouses: int = 1,
                     buyer: str | None = None):
    """An order of `lines` lines, each from its own sku, stocked in `warehouses` warehouses
    so that the order ships in that many parcels."""
    wanted = []
    for n in range(lines):
        sku = f"SKU-{trial}-{n}"
        warehouse = f"WH-{n % warehouses}"
        pilot.inventory.receive(sku=sku, warehouse=warehouse, quantity=5)
        wanted.append(line(sku))
    return pilot.orders.place(buyer_id=buyer or f"b-{trial}", lines=wanted,
                              shipping_address=ADDRESS, device_id=f"d-{trial}")


def paid(pilot: OrderPilot, trial: int, lines: int = 1, warehouses: int = 1):
    order = awaiting_payment(pilot, trial, lines, warehouses)
    return pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"alipay-{trial}")


def in_transit(pilot: OrderPilot, trial: int, parcels: int = 1):
    """A paid order shipped in `parcels` parcels, each picked up and scanned once."""
    order = paid(pilot, trial, lines=parcels, warehouses=parcels)
    for trigger in ("start_picking", "pack", "ship"):
        pilot.orders.fire(order.id, trigger)
    shipments = pilot.shipments.of_order(order.id)
    for parcel in shipments:
        pilot.shipments.fire(parcel.id, "pick_up", location="杭州转运中心")
    return pilot.orders.get(order.id), [s.id for s in shipments]


def start_trial(race, trial: int) -> None:
    """Each trial starts a month after the previous one: whatever timers earlier trials left
    are due by then, so a racing sweep also meets older work, as a real one does."""
    race.at(START + timedelta(days=30 * trial))
