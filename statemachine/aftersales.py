"""The after-sales case aggregate (refund, return, exchange, repair) and its lifecycle table.

    requested ─▶ auto_approved | under_review ─▶ approved | rejected
    refund_only:   approved ─▶ refunded
    return kinds:  approved ─▶ awaiting_return ─▶ received ─▶ inspected (ok | damaged | mismatch)
                   ─▶ refunded | exchanged | repaired | closed
                   awaiting_return ─▶ return_bounced (the carrier sent it back to the buyer:
                   a person answers within the SLA) ─▶ awaiting_return (a new label) | closed

What the steps imply, declared beside them: an exchange accepted holds its replacement units
(like an order's hold); `await_return` creates the return parcel (a label the buyer sends the
goods back with); `inspect` takes the goods back — on the shelf when ok, written off when
damaged (a repair keeps its unit: it goes back to the buyer); `exchange` ships the replacement
in a parcel of its own, deducting the held units; `repair` ships the repaired item back;
`close` gives back a replacement hold that never shipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from statemachine import ids
from statemachine.lifecycle import Creation, Lifecycle, Step, StockIntent, Timer
from statemachine.policies import DeadlineKind, Timeouts
from statemachine.shipment import Shipment, ShipmentState
from statemachine.stock import Allocation


class CaseState(StrEnum):
    REQUESTED = "requested"
    AUTO_APPROVED = "auto_approved"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    AWAITING_RETURN = "awaiting_return"
    RETURN_BOUNCED = "return_bounced"  # the carrier sent the return parcel back to the buyer
    RECEIVED = "received"
    INSPECTED = "inspected"
    REFUNDED = "refunded"
    EXCHANGED = "exchanged"
    REPAIRED = "repaired"
    CLOSED = "closed"


class CaseKind(StrEnum):
    REFUND_ONLY = "refund_only"
    RETURN_REFUND = "return_refund"
    EXCHANGE = "exchange"
    REPAIR = "repair"


class Inspection(StrEnum):
    OK = "ok"
    DAMAGED = "damaged"
    MISMATCH = "mismatch"


@dataclass(frozen=True, slots=True)
class CaseLine:
    line_no: int
    quantity: int
    amount: int  # what refunding this line would cost, minor units


@dataclass(eq=False)
class AfterSalesCase:
    id: int
    order_id: int
    kind: CaseKind
    state: CaseState
    version: int
    reason: str
    lines: tuple[CaseLine, ...]
    created_at: datetime
    inspection: Inspection | None = None
    refunded: int = 0
    # what the step being written does to stock (set by its effect, not stored):
    replacement: tuple[Allocation, ...] = ()  # units an exchange holds or takes fresh
    take_back: str | None = None  # restock | write_off: the inspected goods
    refusal: str | None = None
    step_payload: dict[str, Any] = field(default_factory=dict)

    @property
    def public_id(self) -> str:
        return case_public_id(self.id)

    @property
    def requested_amount(self) -> int:
        return sum(line.amount for line in self.lines)


def case_public_id(number: int) -> str:
    return ids.CASE(number)


class CaseTrigger(StrEnum):
    AUTO_APPROVE = "auto_approve"
    REVIEW = "review"
    APPROVE = "approve"
    REJECT = "reject"
    AWAIT_RETURN = "await_return"
    BOUNCE_RETURN = "bounce_return"
    RECEIVE = "receive"
    INSPECT = "inspect"
    REFUND = "refund"
    EXCHANGE = "exchange"
    REPAIR = "repair"
    CLOSE = "close"


# --- guards ------------------------------------------------------------------------------------

def needs_return(case: AfterSalesCase, ctx: Mapping[str, Any]) -> str | None:
    return "a refund-only case has nothing to send back" \
        if case.kind is CaseKind.REFUND_ONLY else None


# a refund step's fact (read by the service, never given by a caller): what claims on the
# case's own return parcels refunded already (a lost return parcel's goods)
CLAIMS_REFUNDED = "claims_refunded"
# … and what its order can still refund (paid less refunded): a case refunded after its order
# was cancelled and refunded in full would refund more than was paid
ORDER_REFUNDABLE = "order_refundable"


# … and the units it would settle (its lines less those claims refunded) against the units
# of its order's lines not refunded yet: another case, or a parcel's claim, may have
UNITS_TO_SETTLE = "units_to_settle"
UNITS_LEFT = "units_left"


def amount_due(case: AfterSalesCase, claims_refunded: int) -> int:
    """What refunding the case pays at most, and by default: the value of its lines less what
    claims on its own return parcels already refunded (those units are not refunded twice)."""
    return max(case.requested_amount - claims_refunded, 0)


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
    if left is not None and amount > left:
        return (f"its order has {left} left to refund of what was paid (asked {amount}): "
                "refunded already, by a cancellation or another case")
    return units_refunded_already(ctx)


def units_refunded_already(ctx: Mapping[str, Any]) -> str | None:
    """A refund settles the case's units: refused if some were refunded meanwhile."""
    left = ctx.get(UNITS_LEFT) or {}
    short = [f"line {n}: {q} unit(s) to settle, {left.get(n, 0)} not refunded"
             for n, q in (ctx.get(UNITS_TO_SETTLE) or {}).items() if q > left.get(n, 0)]
    return None if not short else ("its units were refunded already, by another case or a "
                                   f"parcel's claim ({'; '.join(short)})")


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


# --- effects -----------------------------------------------------------------------------------

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
    case.refunded = ctx.get("amount", amount_due(case, ctx.get(CLAIMS_REFUNDED, 0)))
    return {"amount": case.refunded}


S = CaseState
ACCEPTED = (S.AUTO_APPROVED, S.APPROVED)
OPEN = (S.REQUESTED, S.AUTO_APPROVED, S.UNDER_REVIEW, S.APPROVED, S.AWAITING_RETURN,
        S.RETURN_BOUNCED, S.RECEIVED, S.INSPECTED)

HOLD_NEW, SHIP_NEW = StockIntent.HOLD_REPLACEMENT, StockIntent.SHIP_REPLACEMENT
RELEASE_NEW, TAKE = StockIntent.RELEASE_REPLACEMENT, StockIntent.TAKE_BACK
LOAD_RETURN = StockIntent.LOAD_RETURN

# the guards of the steps that send parcels which read the case alone (its kind, its
# inspection): asked before a label is bought for the step (service/case_labels.py) as well
# as by the step itself, so a carrier never sells a label the step would then refuse
CASE_ONLY_GUARDS = {"await_return": needs_return, "exchange": kind_is(CaseKind.EXCHANGE),
                    "repair": kind_is(CaseKind.REPAIR)}

CASE_STEPS = (
    Step("auto_approve", (S.REQUESTED,), S.AUTO_APPROVED, effect=accept, stock=(HOLD_NEW,)),
    Step("review", (S.REQUESTED,), S.UNDER_REVIEW, effect=note),
    Step("approve", (S.UNDER_REVIEW,), S.APPROVED, effect=accept, stock=(HOLD_NEW,)),
    Step("reject", (S.REQUESTED, S.UNDER_REVIEW), S.REJECTED, effect=note),
    # a return bounced back to the buyer is sent again with a new label (its units only)
    Step("await_return", (*ACCEPTED, S.RETURN_BOUNCED), S.AWAITING_RETURN,
         (CASE_ONLY_GUARDS["await_return"],),
         note, stock=(LOAD_RETURN,), spawn=parcels_for("return")),
    # the carrier sent a return parcel back to the buyer: a person answers (after-sales SLA)
    Step("bounce_return", (S.AWAITING_RETURN,), S.RETURN_BOUNCED, effect=record_bounce),
    Step("receive", (S.AWAITING_RETURN,), S.RECEIVED, effect=note),
    Step("inspect", (S.RECEIVED,), S.INSPECTED, (has_inspection_result,), record_inspection,
         stock=(TAKE,)),
    Step("refund", (*ACCEPTED, S.INSPECTED), S.REFUNDED, (refund_allowed_now,), record_refund),
    Step("exchange", (S.INSPECTED,), S.EXCHANGED,
         (CASE_ONLY_GUARDS["exchange"], replacement_in_stock), ship_replacement,
         stock=(SHIP_NEW,), spawn=parcels_for("replacement")),
    Step("repair", (S.INSPECTED,), S.REPAIRED, (CASE_ONLY_GUARDS["repair"],), note,
         spawn=parcels_for("repaired")),
    Step("close", OPEN, S.CLOSED, effect=note, stock=(RELEASE_NEW,)),
)

AWAITING_ANSWER = frozenset({S.REQUESTED, S.UNDER_REVIEW, S.RETURN_BOUNCED})


def answer_due(case: AfterSalesCase, now: datetime, timeouts: Timeouts) -> datetime:
    """The response SLA runs from the request, whoever looks at it meanwhile; for a return
    bounced back to the buyer, from the bounce (the case was answered before)."""
    start = now if case.state is S.RETURN_BOUNCED else case.created_at
    return start + timeouts.aftersales_sla


CASE_LIFECYCLE = Lifecycle(
    "case", CaseState, CaseState.REQUESTED, CASE_STEPS, triggers=CaseTrigger,
    creation=Creation("open", "requested"),
    timers=(Timer(DeadlineKind.AFTERSALES_SLA, AWAITING_ANSWER, answer_due),))
