"""After-sales parcels with labels bought from a carrier adapter.

The waybill is bought before the transaction (network I/O never runs inside one), then the
case step runs with it; if the step is refused, the label goes unused (carriers void unused
labels), exactly as `ship_with_labels` does for an order's parcels.
"""

from __future__ import annotations

from integrations.service import aftersales
from integrations.service.case_goods import LABELS
from integrations.service.context import Context
from statemachine.aftersales import AfterSalesCase
from statemachine.errors import InvalidInput
from statemachine.ports import Carrier, WaybillRequest


def fire_with_label(ctx: Context, case_id: int, trigger: str, carrier: Carrier, actor: str,
                    reason: str | None = None) -> AfterSalesCase:
    """Buy the label for `await_return` (a return label), `exchange` or `repair`, then fire."""
    if trigger not in LABELS:
        raise InvalidInput({"trigger": f"expected one of {', '.join(LABELS)} (got {trigger!r})"})
    with ctx.tx(readonly=True) as tx:
        case = tx.store.get_case(case_id)
        order = tx.store.get_order(case.order_id)
        sold = sorted({h.warehouse for h in tx.stock.holds_of([order.id], status="consumed")})
    warehouse = sold[0] if sold else "unknown"
    waybill = carrier.create_waybill(WaybillRequest(
        order.public_id, 1, warehouse, order.attrs.get("shipping_address", {}),
        case.requested_amount, direction="return" if trigger == "await_return" else "outbound"))
    label = {"carrier": waybill.carrier, "tracking_no": waybill.tracking_no}
    params = {"parcels": [label], **({"reason": reason} if reason else {})}
    return aftersales.fire_case(ctx, case_id, trigger, actor, params)
