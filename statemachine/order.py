"""The order's lifecycle table: which step leads from which states to which, under which
guards (statemachine/order_guards.py), doing what (statemachine/order_effects.py), with the
stock intents, the timers armed and cleared and the events declared beside each step. The
writer (integrations/db/writer.py) applies them in the same transaction. The aggregate itself
is statemachine/order_aggregate.py.
"""

from __future__ import annotations

from statemachine.lifecycle import Creation, Lifecycle, Step, StockIntent, Timer
from statemachine.order_aggregate import Order, OrderState, OrderTrigger
from statemachine.order_effects import (
    auto_complete_due,
    cancel_order,
    capture_due,
    correct_address,
    end_hold,
    extend_hold,
    forget_payment,
    hold_end,
    note_reason,
    note_started_payment,
    parcels_for_labels,
    record_capture,
    record_check,
    record_packing,
    record_payment,
    record_pending_payment,
    record_refund,
    record_shipping,
    refund_if_paid,
    restart_hold,
    review_due,
    start_hold,
    verification_due,
    wait_for_payment,
)
from statemachine.order_guards import (
    authorisation_uncaptured,
    checker_is_named,
    every_parcel_delivered,
    hold_extension_is_positive,
    hold_has_lapsed,
    money_all_given_back,
    money_kept_or_shipped_anyway,
    money_taken,
    no_other_payment_started,
    nothing_authorised_to_refund_later,
    nothing_in_transit,
    nothing_paid_yet,
    payment_can_be_taken,
    payment_covers_total,
    payment_started,
    refund_within_paid,
    same_payment,
    second_person_checked,
    something_to_ship,
)
from statemachine.policies import DeadlineKind

S = OrderState
# a person (risk review) or the buyer (verification) decides; money may already arrive: the
# order keeps it (`pay` stays in the state), approve makes it paid, reject refunds it
AWAITING_DECISION = (S.VERIFYING, S.UNDER_REVIEW)
PRE_SHIPMENT = (S.CREATED, S.VERIFYING, S.UNDER_REVIEW, S.AWAITING_PAYMENT, S.PAYMENT_PENDING,
                S.PAID, S.PICKING, S.BACKORDERED)
UNSHIPPED = (*PRE_SHIPMENT, S.PACKED)  # the parcel has not left: its address may change
UNSHIPPED_PAID = (S.PAID, S.PICKING, S.BACKORDERED, S.PACKED)
UNPAYABLE = (S.EXPIRED, S.CANCELLED, S.REJECTED)  # money arriving now is late money
REFUNDABLE = (S.PAID, S.PICKING, S.BACKORDERED, S.PACKED, S.SHIPPED, S.DELIVERED, S.COMPLETED)

RELEASE, CONSUME, RESTOCK = StockIntent.RELEASE, StockIntent.CONSUME, StockIntent.RESTOCK

ORDER_STEPS = (
    Step("approve", AWAITING_DECISION, S.PAID, (money_taken,), note_reason, stock=(CONSUME,)),
    Step("approve", AWAITING_DECISION, S.PAYMENT_PENDING, (payment_started,), wait_for_payment),
    Step("approve", (S.CREATED, *AWAITING_DECISION), S.AWAITING_PAYMENT, effect=start_hold),
    # step-up verification: the buyer answers a challenge; passing approves, failing or the
    # timer rejects (integrations/service/verification.py)
    Step("verify", (S.CREATED,), S.VERIFYING, effect=note_reason),
    Step("review", (S.CREATED,), S.UNDER_REVIEW, effect=note_reason),
    Step("reject", (S.CREATED, *AWAITING_DECISION), S.REJECTED,
         (nothing_authorised_to_refund_later,), refund_if_paid, stock=(RELEASE,)),
    Step("extend_hold", (S.AWAITING_PAYMENT,), None, (hold_extension_is_positive,),
         extend_hold, event="hold_extended"),
    # a payment that has not settled yet (authorised, processing) keeps the stock held
    Step("start_payment", (S.AWAITING_PAYMENT,), S.PAYMENT_PENDING, (payment_covers_total,),
         record_pending_payment),
    Step("fail_payment", (S.PAYMENT_PENDING,), S.AWAITING_PAYMENT, (same_payment,),
         restart_hold, event="payment_failed"),
    Step("pay", (S.AWAITING_PAYMENT, S.PAYMENT_PENDING), S.PAID, (payment_covers_total,),
         record_payment, stock=(CONSUME,)),
    Step("pay", AWAITING_DECISION, None, (nothing_paid_yet, payment_covers_total),
         record_payment, event="paid_before_decision"),
    # a payment started (not settled) while a decision is pending: approval waits for it
    Step("start_payment", AWAITING_DECISION, None,
         (nothing_paid_yet, no_other_payment_started, payment_covers_total),
         note_started_payment, event="payment_started_before_decision"),
    Step("fail_payment", AWAITING_DECISION, None, (nothing_paid_yet, same_payment),
         forget_payment,
         event="payment_failed"),
    Step("expire", (S.AWAITING_PAYMENT, S.PAYMENT_PENDING), S.EXPIRED, (hold_has_lapsed,),
         end_hold, stock=(RELEASE,)),
    # money that arrived after the hold lapsed, under the shop's `revive` policy: the order
    # takes the same stock again if it is still there (else the money is refunded)
    Step("revive", (S.EXPIRED,), S.PAID, (payment_covers_total,), record_payment,
         event="revived", stock=(StockIntent.HOLD, CONSUME)),
    Step("start_picking", (S.PAID,), S.PICKING, effect=note_reason),
    Step("double_check", (S.PICKING,), None, (checker_is_named,), record_check,
         event="double_checked"),
    Step("reallocate", (S.PICKING,), None, effect=note_reason, event="reallocated"),
    Step("backorder", (S.PICKING,), S.BACKORDERED, effect=note_reason),
    Step("reallocate", (S.BACKORDERED,), S.PICKING, effect=note_reason, event="reallocated"),
    Step("pack", (S.PICKING,), S.PACKED, (nothing_in_transit, second_person_checked),
         record_packing),
    # a packed order refunded in full at the provider (Alipay's portal) is held: a person ships
    # it anyway (`ship_refunded`: a gift) or cancels it, its stock back
    Step("ship", (S.PACKED,), S.SHIPPED,
         (something_to_ship, payment_can_be_taken, money_kept_or_shipped_anyway),
         record_shipping, spawn=parcels_for_labels),
    Step("deliver", (S.SHIPPED,), S.DELIVERED, (every_parcel_delivered,)),
    Step("close", (S.DELIVERED,), S.COMPLETED, effect=note_reason),
    # a shipped order whose parcels were all settled (delivered, or lost / returned and the
    # buyer compensated) closes without a delivery
    Step("close", (S.SHIPPED,), S.COMPLETED, (every_parcel_delivered,), note_reason),
    Step("cancel", PRE_SHIPMENT, S.CANCELLED, (nothing_authorised_to_refund_later,),
         cancel_order, stock=(RELEASE, RESTOCK)),
    Step("cancel", (S.PACKED,), S.CANCELLED, (money_all_given_back,), cancel_order,
         stock=(RELEASE, RESTOCK)),
    Step("refund", REFUNDABLE, None, (refund_within_paid,), record_refund, event="refunded"),
    # a cancel or reject with `refund_later` left the money with its provider: its refunds
    # come after
    Step("refund", (S.CANCELLED, S.REJECTED), None, (refund_within_paid,), record_refund,
         event="refunded"),
    # capture at shipping: the authorisation `pay` kept becomes money (at `ship`, or when
    # the authorisation would otherwise lapse)
    Step("capture", REFUNDABLE, None, (authorisation_uncaptured,), record_capture,
         event="captured", clears=(DeadlineKind.AUTHORISATION_EXPIRY,)),
    # a person corrects where the order goes (checked as placement checks it, by the
    # service), until it ships; a review waiting stays waiting: the reviewer decides
    Step("correct_address", UNSHIPPED, None, effect=correct_address,
         event="address_corrected"),
)

ORDER_TIMERS = (
    Timer(DeadlineKind.HOLD_EXPIRY, frozenset({S.AWAITING_PAYMENT}), hold_end, rearm=True),
    Timer(DeadlineKind.REVIEW_SLA, frozenset({S.UNDER_REVIEW}), review_due),
    Timer(DeadlineKind.VERIFICATION_DUE, frozenset({S.VERIFYING}), verification_due),
    Timer(DeadlineKind.AUTO_COMPLETE, frozenset({S.DELIVERED}), auto_complete_due),
    Timer(DeadlineKind.PAYMENT_DUE, frozenset({S.PAYMENT_PENDING}), hold_end),
    Timer(DeadlineKind.AUTHORISATION_EXPIRY, frozenset(UNSHIPPED_PAID), capture_due),
)

ORDER_LIFECYCLE = Lifecycle(
    "order", OrderState, OrderState.CREATED, ORDER_STEPS, triggers=OrderTrigger,
    creation=Creation("place", "created", stock=(StockIntent.HOLD,)), timers=ORDER_TIMERS)


def takes_payment(order: Order) -> bool:
    """Money arriving now is this order's payment: it waits for one (awaiting payment, or
    pending on it), or waits for a decision with nothing paid yet. Other money is late money."""
    return ORDER_LIFECYCLE.can(order.state, "pay") and not order.paid


def waits_for(order: Order, payment_ref: str) -> bool:
    """The order waits for this started payment (pending on it, or a decision pending with it
    on its way): its failure is the `fail_payment` step's, not only a record."""
    return (order.payment_ref == payment_ref and not order.paid
            and order.state in (S.PAYMENT_PENDING, *AWAITING_DECISION))
