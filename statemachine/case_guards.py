"""The after-sales steps' guards: each returns None to allow the step, or the reason for
refusing it (the lifecycle table in statemachine/aftersales.py names which step checks which).
The refund step's facts (`CLAIMS_REFUNDED`, `ORDER_REFUNDABLE`, `UNITS_TO_SETTLE`,
`UNITS_LEFT`) are read by the service, never given by a caller."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from statemachine.case_aggregate import AfterSalesCase, CaseKind, CaseState, Inspection, amount_due


def needs_return(case: AfterSalesCase, ctx: Mapping[str, Any]) -> str | None:
    return "a refund-only case has nothing to send back" \
        if case.kind is CaseKind.REFUND_ONLY else None


# a refund step's fact (read by the service, never given by a caller): what claims on the
# case's own return parcels refunded already (a lost return parcel's goods)
CLAIMS_REFUNDED = "claims_refunded"
# … and what its order can still refund (paid less refunded): a case refunded after its order
# was cancelled and refunded in full would refund more than was paid
ORDER_REFUNDABLE = "order_refundable"
# what of a case's refund its order counted refunded already (a provider refund counted by
# amount before its units were known): the order counts only the rest
COUNTED_BY_ORDER = "counted_by_order"


# … and the units it would settle (its lines less those claims refunded) against the units
# of its order's lines not refunded yet: another case, or a parcel's claim, may have
UNITS_TO_SETTLE = "units_to_settle"
UNITS_LEFT = "units_left"


def refund_allowed_now(case: AfterSalesCase, ctx: Mapping[str, Any]) -> str | None:
    if case.kind in (CaseKind.EXCHANGE, CaseKind.REPAIR):
        return f"a {case.kind} case is settled by {case.kind.value}, not by refund"
    if case.kind is CaseKind.RETURN_REFUND and case.state is not CaseState.INSPECTED:
        return "the returned goods must be inspected before refunding"
    if case.inspection is Inspection.MISMATCH:
        return "inspection found a mismatch: close the case instead"
    claimed = ctx.get(CLAIMS_REFUNDED, 0)
    due = amount_due(case, claimed)
    amount = ctx.get("amount", due)
    if not 0 < amount <= due:
        why = f" ({case.requested_amount} requested, {claimed} refunded by the claims on its " \
              "return parcels)" if claimed else ""
        return f"amount must be between 1 and {due}{why} (got {amount})" if due else \
            f"nothing left to refund{why}"
    left = ctx.get(ORDER_REFUNDABLE)
    if left is not None and amount - ctx.get(COUNTED_BY_ORDER, 0) > left:
        return (f"its order has {left} left to refund of what was paid (asked {amount}): "
                "refunded already, by a cancellation or another case")
    return units_refunded_already(ctx)


def units_refunded_already(ctx: Mapping[str, Any]) -> str | None:
    """A refund settles the case's units: refused if some were refunded meanwhile."""
    left = ctx.get(UNITS_LEFT) or {}
    short = [f"line {n}: {q} unit(s) to settle, {left.get(n, 0)} not refunded"
             for n, q in (ctx.get(UNITS_TO_SETTLE) or {}).items() if q > left.get(n, 0)]
    return None if not short else ("its units were refunded already, by another case, a "
                                   "parcel's claim or a refund made in the provider's admin "
                                   f"({'; '.join(short)})")


def kind_is(kind: CaseKind):
    def guard(case: AfterSalesCase, ctx: Mapping[str, Any]) -> str | None:
        if case.kind is not kind:
            return f"only a {kind} case can be settled this way (this is {case.kind})"
        if case.inspection not in (Inspection.OK, Inspection.DAMAGED):
            return f"inspection result is {case.inspection}; needs ok or damaged"
        return None

    guard.__name__ = f"kind_is_{kind.value}"
    return guard


def replacement_in_stock(case: AfterSalesCase, ctx: Mapping[str, Any]) -> str | None:
    """The replacement's units were held at approval, or are free now (`replacement_short`
    lists what neither covers)."""
    short = ctx.get("replacement_short") or ()
    return None if not short else f"no stock for the replacement: {'; '.join(short)}"


def has_inspection_result(case: AfterSalesCase, ctx: Mapping[str, Any]) -> str | None:
    result = ctx.get("result")
    choices = ", ".join(i.value for i in Inspection)
    return None if result in set(Inspection) else f"result must be one of {choices}"
