"""After-sales parcels with labels bought from a carrier adapter.

The waybills are bought before the transaction (network I/O never runs inside one), one per
warehouse the step's own labels would name (a return of goods sold from two warehouses goes
back in two parcels, each to the warehouse its units left from), then the case step runs with
them; if the step is refused, the labels go unused (carriers void unused labels), as
`ship_with_labels` does for an order's parcels. A step the case cannot take, or a bad reason,
is refused before anything is bought; a carrier that does not answer or refuses leaves the
case as it was (`CarrierUnavailable`, `WaybillRefused`).

`new_return_label` is the one way a person's "send the buyer a new return label" runs — the
CLI's `case new-label`, the API's `cases.new_label` and the console's bounced-return form:
the label is bought from the carrier the order's goods went with, through its adapter.
"""

from __future__ import annotations

from collections.abc import Callable

from integrations.service import aftersales
from integrations.service.case_goods import LABELS, carrier_of, label_plan
from integrations.service.context import Context
from integrations.service.inputs import CASE_PARAMS, Reasoned, trigger_params
from integrations.service.label_check import label_flag
from statemachine.aftersales import CASE_LIFECYCLE, CASE_ONLY_GUARDS, AfterSalesCase
from statemachine.errors import GuardRejected, InvalidInput, InvalidTransition
from statemachine.ports import Carrier, CarrierUnavailable, Waybill, WaybillRequest


def fire_with_label(ctx: Context, case_id: int, trigger: str, carrier: Carrier, actor: str,
                    reason: str | None = None) -> AfterSalesCase:
    """Buy the labels for `await_return` (return labels), `exchange` or `repair`, one per
    warehouse the goods go back to or leave from (as the step's own labels), then fire."""
    return _bought_and_fired(ctx, case_id, trigger, lambda _name: carrier, actor, reason)[0]


def new_return_label(ctx: Context, case_id: int, adapter: Callable[[str], Carrier],
                     actor: str, reason: str | None) -> tuple[AfterSalesCase, list[Waybill]]:
    """`await_return` with return waybills bought through `adapter(<the order's carrier>)`:
    the case and the waybills it now waits for."""
    return _bought_and_fired(ctx, case_id, "await_return", adapter, actor, reason)


def _bought_and_fired(ctx: Context, case_id: int, trigger: str,
                      adapter: Callable[[str], Carrier], actor: str,
                      reason: str | None) -> tuple[AfterSalesCase, list[Waybill]]:
    if trigger not in LABELS:
        raise InvalidInput({"trigger": f"expected one of {', '.join(LABELS)} (got {trigger!r})"})
    params = trigger_params(trigger, CASE_LIFECYCLE.triggers, CASE_PARAMS, Reasoned,
                            {"reason": reason} if reason else {})
    with ctx.tx(readonly=True) as tx:
        case = tx.store.get_case(case_id)
        if not CASE_LIFECYCLE.can(case.state, trigger):  # refused before a label is bought
            raise InvalidTransition("case", case.public_id, case.state.value, trigger,
                                    CASE_LIFECYCLE.allowed(case.state))
        refusal = CASE_ONLY_GUARDS[trigger](case, {})  # a refund-only case sends nothing back
        if refusal is not None:
            raise GuardRejected("case", case.public_id, case.state.value, trigger, refusal)
        order = tx.store.get_order(case.order_id)
        plan, carrier_name = label_plan(tx, case, trigger), carrier_of(ctx, tx, case)
    carrier = adapter(carrier_name)
    address = order.attrs.get("shipping_address", {})
    direction = "return" if trigger == "await_return" else "outbound"
    flag = label_flag(address)  # a return label names the buyer's address as its sender
    waybills = [_buy(carrier, WaybillRequest(order.public_id, n, warehouse, address, value,
                                             direction=direction, flag=flag), case.public_id)
                for n, (warehouse, value) in enumerate(plan, start=1)]
    labels = [{"carrier": w.carrier, "tracking_no": w.tracking_no, "warehouse": warehouse}
              for w, (warehouse, _) in zip(waybills, plan, strict=True)]
    fired = aftersales.fire_case(ctx, case_id, trigger, actor, {**params, "parcels": labels})
    return fired, waybills


def _buy(carrier: Carrier, request: WaybillRequest, case: str) -> Waybill:
    """The waybill, or CarrierUnavailable when the carrier does not answer (a refusal is the
    adapter's WaybillRefused): never the network's own exception."""
    try:
        return carrier.create_waybill(request)
    except (TimeoutError, ConnectionError) as error:
        detail = str(error).strip() or type(error).__name__
        raise CarrierUnavailable(carrier.profile.name, f"no {request.direction} waybill was "
                                 f"bought for {case}, which is unchanged", detail) from error
