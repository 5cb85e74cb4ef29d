"""Racing callers that ship parcels under waybill numbers of the default (simulated) carrier
adapter: a lead typing the number on the box, a dispatcher buying it from the adapter."""

from __future__ import annotations

from typing import Any

from orderpilot import OrderPilot
from statemachine.errors import OrderPilotError
from statemachine.ports import Waybill, WaybillRequest


def ship_typed(pilot: OrderPilot, order_ids: list[str], carrier: str,
               numbers: list[str]) -> list[list[Any]]:
    """A lead ships each packed order under the number typed from its label, one after the
    other: [order, number, error code or None] per ship (a refusal is the caller's answer;
    any other exception reaches the pool as it would a caller)."""
    done = []
    for order_id, number in zip(order_ids, numbers, strict=True):
        try:
            pilot.orders.fire(order_id, "ship", actor="lead:陈静",
                              parcels=[{"carrier": carrier, "tracking_no": number}])
            done.append([order_id, number, None])
        except OrderPilotError as error:
            done.append([order_id, number, error.code])
    return done


class _Recording:
    """The default adapter of a carrier, noting every number it hands out."""

    def __init__(self, adapter: Any):
        self.adapter, self.profile, self.handed_out = adapter, adapter.profile, []

    def create_waybill(self, request: WaybillRequest) -> Waybill:
        waybill = self.adapter.create_waybill(request)
        self.handed_out.append(waybill.tracking_no)
        return waybill


def ship_numbered(pilot: OrderPilot, order_ids: list[str], carrier: str) -> dict[str, Any]:
    """A dispatcher ships each packed order with a label bought from the default adapter of
    `carrier` (pilot.orders.ship_with_labels, as the console does): the numbers handed out,
    and [order, number, error code or None] per ship."""
    from integrations.service.carrier_adapters import carrier_adapter

    adapter, done = _Recording(carrier_adapter(pilot.context, carrier)), []
    for order_id in order_ids:
        bought = len(adapter.handed_out)
        try:
            pilot.orders.ship_with_labels(order_id, {carrier: adapter}, actor="dispatch")
            error = None
        except OrderPilotError as refused:
            error = refused.code
        number = adapter.handed_out[-1] if len(adapter.handed_out) > bought else None
        done.append([order_id, number, error])
    return {"handed_out": adapter.handed_out, "ships": done}


def ship_batch(pilot: OrderPilot, order_ids: list[str], carrier: str,
               numbers: list[str]) -> str | None:
    """An import ships these packed orders in one transaction, each under its number, in the
    order given (the bulk path: replay.bulk.fire_orders, one pipeline batch), re-run on a
    collision as every unit of work is: None, or the code of the error its caller sees."""
    from integrations.replay import bulk
    from integrations.service.contention import retrying
    from integrations.service.inputs import Ship, parse
    from statemachine import ids

    ctx = pilot.context
    moves = [bulk.Move(ids.ORDER.parse(order_id), "ship", ctx.clock.now(), "import",
                       parse(Ship, {"parcels": [{"carrier": carrier, "tracking_no": number}]})
                       .model_dump(exclude_none=True))
             for order_id, number in zip(order_ids, numbers, strict=True)]

    @retrying("shipping a batch")
    def ship() -> list[bulk.Refused]:
        with bulk.batch(ctx, moves) as tx:
            return bulk.fire_orders(ctx, tx, moves)

    try:
        refused = ship()
    except OrderPilotError as error:
        return error.code
    return f"refused: {refused}" if refused else None
