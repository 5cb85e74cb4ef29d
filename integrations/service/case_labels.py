"""After-sales parcels with labels bought from a carrier adapter.

The waybills are bought before the transaction (network I/O never runs inside one), one per
warehouse the step's own labels would name (a return of goods sold from two warehouses goes
back in two parcels, each to the warehouse its units left from), then the case step runs with
them; if the step is refused, the labels go unused (carriers void unused labels), as
`ship_with_labels` does for an order's parcels.
"""

from __future__ import annotations

from integrations.service import aftersales
from integrations.service.case_goods import LABELS, label_plan
from integrations.service.context import Context
from integrations.service.label_check import label_flag
from statemachine.aftersales import AfterSalesCase
from statemachine.errors import InvalidInput
from statemachine.ports import Carrier, WaybillRequest


def fire_with_label(ctx: Context, case_id: int, trigger: str, carrier: Carrier, actor: str,
                    reason: str | None = None) -> AfterSalesCase:
    """Buy the labels for `await_return` (return labels), `exchange` or `repair`, one per
    warehouse the goods go back to or leave from (as the step's own labels), then fire."""
    if trigger not in LABELS:
        raise InvalidInput({"trigger": f"expected one of {', '.join(LABELS)} (got {trigger!r})"})
    with ctx.tx(readonly=True) as tx:
        case = tx.store.get_case(case_id)
        order = tx.store.get_order(case.order_id)
        plan = label_plan(tx, case, trigger)
    address = order.attrs.get("shipping_address", {})
    direction = "return" if trigger == "await_return" else "outbound"
    flag = label_flag(address)  # a return label names the buyer's address as its sender
    labels = []
    for n, (warehouse, value) in enumerate(plan, start=1):
        waybill = carrier.create_waybill(WaybillRequest(order.public_id, n, warehouse, address,
                                                        value, direction=direction, flag=flag))
        labels.append({"carrier": waybill.carrier, "tracking_no": waybill.tracking_no,
                       "warehouse": warehouse})
    params = {"parcels": labels, **({"reason": reason} if reason else {})}
    return aftersales.fire_case(ctx, case_id, trigger, actor, params)
