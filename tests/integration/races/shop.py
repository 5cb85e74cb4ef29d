"""Given-steps for the race trials: each trial builds its own orders on fresh skus, through the
test's own pilot, before the workers race on them."""

from __future__ import annotations

from datetime import timedelta

from integrations.db.money_store import MoneyStore
from orderpilot import OrderPilot
from statemachine import ids
from tests.conftest import START
from tests.integration.races.actions import ADDRESS

PRICE = 1999
HOLD_LAPSED = timedelta(minutes=21)  # past the 20-minute stock hold the trials' shop uses
PAYMENT_DUE_PASSED = timedelta(hours=72, minutes=1)  # past a started payment's 72 h deadline


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


def expired_unpaid(race, pilot: OrderPilot, trial: int):
    """An order whose hold lapsed unpaid and was swept: expired, its unit back on the shelf."""
    order = awaiting_payment(pilot, trial)
    race.at(race.now() + HOLD_LAPSED)
    assert pilot.sweep(race.now())["hold_expiry"] >= 1
    return order


def payment_started(pilot: OrderPilot, trial: int, payment_ref: str):
    """An order waiting on a payment that has not settled (a bank transfer processing)."""
    order = awaiting_payment(pilot, trial)
    pilot.orders.fire(order.id, "start_payment", amount=order.total, payment_ref=payment_ref)
    return order


def money_arrives(race, order, payment_ref: str, **policy) -> tuple[str, dict]:
    """The racing action: the provider reports the order's full amount captured, now."""
    return ("provider_captured", {"order_id": order.id, "payment_ref": payment_ref,
                                  "amount": order.total, "at": race.now().isoformat(),
                                  **policy})


def late_refunds(pilot: OrderPilot, order_id: str) -> dict[str, tuple[str, int]]:
    """The automatic refunds of late money made for an order: key → (status, amount)."""
    with pilot.context.tx(readonly=True) as tx:
        return {op.key: (op.status.value, op.amount) for op in
                MoneyStore(tx.store.sql).of_order(int(order_id[2:]))
                if op.key.startswith("late-refund:")}


def booked(pilot, order_id: str) -> tuple[int, list[str]]:
    """The refunds in the order's ledger, and the keys of its operations still pending."""
    number = ids.ORDER.parse(order_id)
    with pilot.context.tx(readonly=True) as tx:
        ledger = sum(r[0] for r in tx.store.sql.all(
            "SELECT amount FROM payment_records WHERE order_id = :o AND kind = 'refund'",
            {"o": number}))
        pending = [op.key for op in MoneyStore(tx.store.sql).of_order(number)
                   if op.status.value == "pending"]
    return ledger, pending


def approved_refund_case(pilot, order, line_no: int = 1, kind: str = "refund_only") -> str:
    case = pilot.cases.open(order.id, kind=kind, reason="商品破损",
                            lines=[{"line_no": line_no, "quantity": 1}])
    pilot.cases.fire(case.id, "auto_approve")
    return case.id
