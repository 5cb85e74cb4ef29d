"""What the after-sales steps do (statemachine/aftersales.py names which step does which):
effects change the case only and return the history payload — and, for the writer, what the
step does to stock (`replacement`, `take_back`); the steps that send goods spawn parcels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from statemachine.case_aggregate import AfterSalesCase, CaseKind, Inspection, amount_due
from statemachine.case_guards import CLAIMS_REFUNDED, COUNTED_BY_ORDER
from statemachine.shipment import Shipment, ShipmentState


def note(case: AfterSalesCase, ctx: Mapping[str, Any]) -> dict[str, Any]:
    return {"reason": ctx["reason"]} if ctx.get("reason") else {}


def accept(case: AfterSalesCase, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Accepted: an exchange holds its replacement units now, if there are any to hold."""
    payload = note(case, ctx)
    if case.kind is CaseKind.EXCHANGE:
        case.replacement = tuple(ctx.get("replacement_plan") or ())
        if case.replacement:
            payload["replacement_held"] = [[a.sku, a.warehouse, a.quantity]
                                           for a in case.replacement]
        else:
            payload["replacement_not_held"] = "; ".join(ctx.get("replacement_short") or ()) \
                or "nothing to hold"
    return payload


# what inspection does with returned goods, per case kind (a repair's unit goes back out)
TAKE_BACK = {(CaseKind.RETURN_REFUND, Inspection.OK): "restock",
             (CaseKind.RETURN_REFUND, Inspection.DAMAGED): "write_off",
             (CaseKind.EXCHANGE, Inspection.OK): "restock",
             (CaseKind.EXCHANGE, Inspection.DAMAGED): "write_off"}


def record_inspection(case: AfterSalesCase, ctx: Mapping[str, Any]) -> dict[str, Any]:
    case.inspection = Inspection(ctx["result"])
    case.take_back = TAKE_BACK.get((case.kind, case.inspection))
    payload = {"result": case.inspection.value, "notes": ctx.get("notes")}
    if case.take_back:
        payload["goods"] = "back on the shelf" if case.take_back == "restock" else "written off"
    return payload


def ship_replacement(case: AfterSalesCase, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """The held units ship; `replacement_plan` covers what was not held (taken fresh now)."""
    case.replacement = tuple(ctx.get("replacement_plan") or ())
    payload = note(case, ctx)
    if case.replacement:
        payload["taken_now"] = [[a.sku, a.warehouse, a.quantity] for a in case.replacement]
    return payload


def parcels_for(purpose: str):
    """The step creates one parcel per label in `parcels`, for this case (see kinds.py)."""
    def spawn(case: AfterSalesCase, ctx: Mapping[str, Any]) -> list[Shipment]:
        return [Shipment(id=0, order_id=case.order_id, state=ShipmentState.LABEL_CREATED,
                         version=1, warehouse=label["warehouse"], carrier=label["carrier"],
                         tracking_no=label["tracking_no"], created_at=ctx["at"],
                         promised_by=ctx.get("promised_by"), purpose=purpose,
                         case_id=case.id, step_payload={"parcel": n, "purpose": purpose,
                                                        "case": case.public_id, **label})
                for n, label in enumerate(ctx.get("parcels") or (), start=1)]

    spawn.__name__ = f"{purpose}_parcels"
    return spawn


def record_bounce(case: AfterSalesCase, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """What the person who answers needs: which return parcel came back to the buyer, why."""
    return {"parcel": ctx.get("parcel"),
            "reason": ctx.get("reason") or "the carrier sent the return parcel back to the buyer",
            "answer": "a new return label (await_return) or close the case"}


def record_refund(case: AfterSalesCase, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """`counted_by_order`: what of it the order counted refunded already (a provider refund
    counted by amount before its units, this case's, were known): not counted again."""
    case.refunded = ctx.get("amount", amount_due(case, ctx.get(CLAIMS_REFUNDED, 0)))
    counted = ctx.get(COUNTED_BY_ORDER, 0)
    return {"amount": case.refunded, **({COUNTED_BY_ORDER: counted} if counted else {})}
