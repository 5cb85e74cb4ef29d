"""Worker for the process race test (importable by spawned processes)."""

from __future__ import annotations

from orderpilot import InsufficientStock, OrderPilot
from statemachine.risk_port import approve_everything
from tests.factories import order_request


def place_one(url: str, buyer: int, start, results) -> None:
    """Wait for the starting gun, try to buy one unit, report 'ok' or 'sold out'."""
    pilot = OrderPilot(url, risk_check=approve_everything)
    start.wait(timeout=60)
    try:
        pilot.orders.place(**order_request(buyer=f"b-{buyer}", quantity=1))
        results.put("ok")
    except InsufficientStock:
        results.put("sold out")
    except Exception as error:  # reported, so the test fails with the reason
        results.put(f"error: {error!r}")
    finally:
        pilot.close()


def pay_with_key(url: str, order_id: str, total: int, start, results) -> None:
    """Wait for the starting gun, then pay the order with a shared idempotency key."""
    pilot = OrderPilot(url, risk_check=approve_everything)
    start.wait(timeout=60)
    try:
        view = pilot.orders.fire(order_id, "pay", amount=total, payment_ref="p-1",
                                 idempotency_key="gateway-event-1")
        results.put(view.state)
    except Exception as error:
        results.put(f"error: {error!r}")
    finally:
        pilot.close()
