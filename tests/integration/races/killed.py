"""The writer the kill test shoots: a loop of real commands, flagging when a transaction is open.

Started through a forkserver that has imported orderpilot already, so a new writer costs a fork,
not a 1.5 s import: the test can kill a hundred of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from orderpilot import OrderPilot, OrderPilotError
from statemachine.risk_port import approve_everything
from tests.integration.races.actions import ADDRESS, warm_up

warm_up()  # in the forkserver, once: every writer forked from it starts warm


def write_until_killed(url: str, clock_value: Any, in_tx: Any, ready: Any, seed: int) -> None:
    """Place, pay, ship and deliver (or cancel) orders until SIGKILL arrives."""
    from tests.integration.races.pool import SharedClock

    pilot = OrderPilot(url, clock=SharedClock(clock_value), risk_check=approve_everything)
    pilot.context.tx = _flagging(pilot.context.tx, in_tx)  # every unit of work goes through it
    n = 0
    while True:
        n += 1
        with suppress(OrderPilotError):  # e.g. a collision with the test's checks: go on
            _one_order(pilot, f"k{seed}-{n}", cancel=n % 3 == 0)
        # ready once a whole order has gone through: whatever a writer's first order costs
        # (connections, caches, a parser's tables) is behind it, so the test's 5–80 ms shot
        # lands in steady work, where most of the time is spent inside transactions
        ready.set()


def _flagging(tx: Any, in_tx: Any) -> Any:
    """`Context.tx`, raising the shared flag while a transaction is open."""
    @contextmanager
    def flagged(readonly: bool = False) -> Iterator[Any]:
        in_tx.value = 1
        try:
            with tx(readonly) as unit:
                yield unit
        finally:
            in_tx.value = 0

    return flagged


def _one_order(pilot: OrderPilot, buyer: str, cancel: bool) -> None:
    order = pilot.orders.place(buyer_id=buyer, shipping_address=ADDRESS, lines=[
        {"sku": "SKU-A", "quantity": 1, "unit_price": 1999},
        {"sku": "SKU-B", "quantity": 1, "unit_price": 2999}])
    pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"wx-{buyer}")
    if cancel:
        pilot.orders.fire(order.id, "cancel", reason="买家取消")
        return
    for trigger in ("start_picking", "pack", "ship"):
        pilot.orders.fire(order.id, trigger)
    for parcel in pilot.shipments.of_order(order.id):
        pilot.shipments.fire(parcel.id, "pick_up", location="杭州转运中心")
        pilot.shipments.fire(parcel.id, "deliver")
