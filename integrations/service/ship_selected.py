"""Ship with the carrier that selection picks per parcel, buying its waybill from that
carrier's adapter; the reasons go into each parcel's history. (A use case: it lived in
integrations/carriers/selected.py before; the adapters there only speak to carriers.)

Labels are bought between two transactions, never inside one: a carrier's API answering
slowly must not hold the store's write lock (on SQLite, every other writer's). The order is
read and the carriers chosen first; `ship` then runs on the order as it is by then. If `ship`
is refused there, the labels go unused (carriers void unused labels) and nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping

from integrations.service import orders
from integrations.service.carriers import parcel_value, pick_carrier
from integrations.service.context import Context
from integrations.service.input_checks import parse
from integrations.service.inputs import Ship
from integrations.service.label_check import label_flag
from statemachine.errors import GuardRejected, InvalidTransition
from statemachine.order import ORDER_LIFECYCLE, Order
from statemachine.order_guards import money_kept_or_shipped_anyway
from statemachine.ports import Carrier, Waybill, WaybillRequest


def ship_selected(ctx: Context, order_no: int, carriers: Mapping[str, Carrier],
                  actor: str, ship_refunded: str | None = None) -> tuple[Order, list[Waybill]]:
    """Select a carrier per warehouse the order's goods were picked from, buy each waybill
    from that carrier's adapter, then `ship` with them. Refusals (the order is not packed, a
    selected carrier has no adapter, its money all refunded and no `ship_refunded` why, a bad
    why) come before any label is bought; an address corrected while they were bought
    refuses the ship (the labels print the old one)."""
    said = ({} if ship_refunded is None else  # InvalidInput naming ship_refunded
            parse(Ship, {"ship_refunded": ship_refunded}).model_dump(exclude_none=True))
    now = ctx.clock.now()  # the ship step's time: selection and `ship` both use it
    with ctx.tx(readonly=True) as tx:
        order = tx.store.get_order(order_no)
        _check_can_ship(ctx, order, said)
        warehouses = sorted({h.warehouse for h in tx.stock.holds_of([order_no], "consumed")})
        if not warehouses:
            raise GuardRejected("order", order.public_id, order.state.value, "ship",
                                "no goods were picked from any warehouse")
        chosen = [(wh, pick_carrier(ctx, tx, order, wh, {}, now), parcel_value(tx, order, wh))
                  for wh in warehouses]
    for _, picked, _ in chosen:
        if picked["carrier"] not in carriers:
            raise GuardRejected("order", order.public_id, order.state.value, "ship",
                                f"carrier {picked['carrier']} was selected but has no "
                                "adapter configured")
    address = order.attrs.get("shipping_address", {})
    flag = label_flag(address)
    waybills = [carriers[picked["carrier"]].create_waybill(
                    WaybillRequest(order.public_id, n, wh, address, value, flag=flag))
                for n, (wh, picked, value) in enumerate(chosen, start=1)]
    parcels = [{**picked, "warehouse": wh, "tracking_no": waybill.tracking_no}
               for (wh, picked, _), waybill in zip(chosen, waybills, strict=True)]
    with ctx.tx() as tx:
        current = tx.store.get_order(order_no, lock=True)
        if current.attrs.get("shipping_address", {}) != address:  # corrected meanwhile
            raise GuardRejected("order", current.public_id, current.state.value, "ship",
                                "its address was corrected while the labels were bought "
                                "(they print the old one and go unused): ship it again for "
                                "labels to the new address")
        try:
            orders.fire(ctx, tx, current, "ship", actor, {
                "parcels": parcels, "promised_by": max(w.promised_by for w in waybills),
                **said}, now=now)
        except InvalidTransition as error:  # it moved while the labels were bought
            raise orders.as_a_caller_sees(ctx, error, current) from None
        return tx.store.get_order(order_no), waybills


def _check_can_ship(ctx: Context, order: Order, said: dict[str, str]) -> None:
    if not ORDER_LIFECYCLE.can(order.state, "ship"):
        raise orders.as_a_caller_sees(ctx, InvalidTransition(
            "order", order.public_id, order.state.value, "ship",
            ORDER_LIFECYCLE.allowed(order.state)), order)
    # a packed order whose money was all refunded is held (`ship` refuses it) unless a
    # person says why it ships anyway (`ship_refunded`): refused before any label is bought
    held = money_kept_or_shipped_anyway(order, said)
    if held is not None:
        raise GuardRejected("order", order.public_id, order.state.value, "ship", held)
