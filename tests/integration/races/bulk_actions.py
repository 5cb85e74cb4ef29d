"""Racing actions on the bulk path (integrations/replay/bulk.py): many orders in one
transaction, raced by callers moving the same orders one at a time."""

from __future__ import annotations

from orderpilot import OrderPilot, OrderPilotError
from statemachine import ids


def expire_in_bulk(pilot: OrderPilot, order_ids: list[str]) -> list[str]:
    """Expire these orders in one bulk batch (`bulk.fire_orders`, as a replay batch moves
    them); the orders it refused (a payment came first), or the batch's error raised."""
    from integrations.replay import bulk

    ctx = pilot.context
    moves = [bulk.Move(ids.ORDER.parse(order_id), "expire", ctx.clock.now(), "system:sweep",
                       {"reason": "unpaid when the stock hold lapsed"}) for order_id in order_ids]
    with bulk.batch(ctx, moves) as tx:
        refused = bulk.fire_orders(ctx, tx, moves)
    return sorted(ids.ORDER(r.move.id) for r in refused)


def pay_each(pilot: OrderPilot, order_ids: list[str], amount: int) -> dict[str, str]:
    """The buyers pay these orders one after the other: per order, its state after the
    payment, or the code of the error its buyer was told."""
    told = {}
    for order_id in order_ids:
        try:
            told[order_id] = pilot.orders.fire(order_id, "pay", amount=amount,
                                               payment_ref=f"alipay-{order_id}").state
        except OrderPilotError as error:
            told[order_id] = error.code
    return told
