"""The after-sales case lifecycle table (refund, return, exchange, repair).

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

The aggregate is statemachine/case_aggregate.py, the guards statemachine/case_guards.py and the
effects statemachine/case_effects.py; their public names are imported here too, where the rest
of the code has always found them.
"""

from __future__ import annotations

from datetime import datetime

from statemachine.case_aggregate import (
    AfterSalesCase,
    CaseKind,
    CaseLine,
    CaseState,
    CaseTrigger,
    Inspection,
    amount_due,
    case_public_id,
)
from statemachine.case_effects import (
    TAKE_BACK,
    accept,
    note,
    parcels_for,
    record_bounce,
    record_inspection,
    record_refund,
    ship_replacement,
)
from statemachine.case_guards import (
    CLAIMS_REFUNDED,
    COUNTED_BY_ORDER,
    ORDER_REFUNDABLE,
    UNITS_LEFT,
    UNITS_TO_SETTLE,
    has_inspection_result,
    kind_is,
    needs_return,
    refund_allowed_now,
    replacement_in_stock,
    units_refunded_already,
)
from statemachine.lifecycle import Creation, Lifecycle, Step, StockIntent, Timer
from statemachine.policies import DeadlineKind, Timeouts

__all__ = [
    "AWAITING_ANSWER", "CASE_LIFECYCLE", "CASE_ONLY_GUARDS", "CASE_STEPS", "CLAIMS_REFUNDED",
    "COUNTED_BY_ORDER", "OPEN", "ORDER_REFUNDABLE", "TAKE_BACK", "UNITS_LEFT", "UNITS_TO_SETTLE",
    "AfterSalesCase", "CaseKind", "CaseLine", "CaseState", "CaseTrigger", "Inspection",
    "amount_due", "answer_due", "case_public_id", "refund_allowed_now", "units_refunded_already",
]

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
