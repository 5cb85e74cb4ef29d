"""The order aggregate and its lifecycle table, with each step's consequences beside it.

Money is in integer minor units. The payment track (paid / refunded) lives on the order;
refunded can never exceed paid. Stock intents, timers and the parcels `ship` creates are
declared here; the writer (integrations/db/writer.py) applies them in the same transaction.
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


class OrderState(StrEnum):
    CREATED = "created"
    VERIFYING = "verifying"  # the buyer is asked to prove who they are (SMS code)
    UNDER_REVIEW = "under_review"
    AWAITING_PAYMENT = "awaiting_payment"
    # money on its way but not settled: a card authorised and not yet captured, a bank
    # transfer processing. The stock stays held until the payment's own deadline.
    PAYMENT_PENDING = "payment_pending"
    PAID = "paid"
    PICKING = "picking"
    BACKORDERED = "backordered"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class OrderTrigger(StrEnum):
    APPROVE = "approve"
    VERIFY = "verify"
    REVIEW = "review"
    REJECT = "reject"
    EXTEND_HOLD = "extend_hold"
    START_PAYMENT = "start_payment"
    FAIL_PAYMENT = "fail_payment"
    PAY = "pay"
    CAPTURE = "capture"
    REVIVE = "revive"
    EXPIRE = "expire"
    START_PICKING = "start_picking"
    DOUBLE_CHECK = "double_check"
    REALLOCATE = "reallocate"
    BACKORDER = "backorder"
    PACK = "pack"
    SHIP = "ship"
    DELIVER = "deliver"
    CLOSE = "close"
    CANCEL = "cancel"
    REFUND = "refund"


class PaymentStatus(StrEnum):
    UNPAID = "unpaid"
    AUTHORISED = "authorised"  # capture at shipping: the money is guaranteed, not yet taken
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


@dataclass(eq=False)
class OrderLine:
    line_no: int
    sku: str
    quantity: int
    unit_price: int
    refunded_quantity: int = 0

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


@dataclass(eq=False)
class Order:
    id: int
    buyer_id: str
    state: OrderState
    version: int
    currency: str
    total: int
    lines: list[OrderLine]
    created_at: datetime
    paid: int = 0
    refunded: int = 0
    payment_ref: str | None = None
    hold_expires_at: datetime | None = None
    attrs: dict[str, Any] = field(default_factory=dict)  # address, device, ip, phone, risk
    allocation: tuple[Allocation, ...] = ()  # the stock plan chosen at placement (HOLD)
    refusal: str | None = None
    step_payload: dict[str, Any] = field(default_factory=dict)

    @property
    def public_id(self) -> str:
        return order_public_id(self.id)

    @property
    def payment_status(self) -> PaymentStatus:
        if self.paid == 0:
            return PaymentStatus.AUTHORISED if self.authorisation else PaymentStatus.UNPAID
        if self.refunded == 0:
            return PaymentStatus.PAID
        return PaymentStatus.REFUNDED if self.refunded >= self.paid else \
            PaymentStatus.PARTIALLY_REFUNDED

    @property
    def authorisation(self) -> dict[str, Any] | None:
        """An authorisation kept for capture at shipping, until it is captured."""
        return self.attrs.get("authorisation")


def order_public_id(number: int) -> str:
    return ids.ORDER(number)


# --- guards: return None to allow, or the reason for refusing --------------------------------

def payment_covers_total(order: Order, ctx: Mapping[str, Any]) -> str | None:
    amount, ref = ctx.get("amount"), ctx.get("payment_ref")
    if not ref:
        return "payment_ref is required"
    if amount != order.total:
        return f"amount must equal the order total {order.total} (got {amount})"
    return None


def nothing_paid_yet(order: Order, ctx: Mapping[str, Any]) -> str | None:
    """An order waiting for a decision takes one payment (another is late money), and only
    money taken: an authorisation kept for shipping could lapse while a person decides."""
    if order.paid:
        return f"already paid by {order.payment_ref} while the decision is pending"
    if ctx.get("capture_by") is not None:
        return "an order waiting for a decision takes captured money, not an authorisation"
    return None


def money_taken(order: Order, ctx: Mapping[str, Any]) -> str | None:
    """Approving an order the buyer paid while it waited makes it paid; else it waits."""
    return None if order.paid else "nothing paid yet"


def payment_started(order: Order, ctx: Mapping[str, Any]) -> str | None:
    """Approving an order whose buyer started a payment while it waited (a bank transfer
    processing) waits for that payment, as if it had started after the approval."""
    return None if order.payment_ref and not order.paid else "no payment started"


def no_other_payment_started(order: Order, ctx: Mapping[str, Any]) -> str | None:
    """An order waiting for a decision waits for one started payment (the first)."""
    if order.payment_ref and order.payment_ref != ctx.get("payment_ref"):
        return f"payment {order.payment_ref} was started already"
    return None


def hold_has_lapsed(order: Order, ctx: Mapping[str, Any]) -> str | None:
    expires = order.hold_expires_at
    if expires is not None and ctx["at"] < expires:
        return f"the stock hold runs until {expires.isoformat()}"
    return None


def same_payment(order: Order, ctx: Mapping[str, Any]) -> str | None:
    """A failure notice must be about the payment the order is waiting for."""
    if ctx.get("payment_ref") != order.payment_ref:
        return (f"the order waits for payment {order.payment_ref}, "
                f"not {ctx.get('payment_ref')}")
    return None


def authorisation_uncaptured(order: Order, ctx: Mapping[str, Any]) -> str | None:
    held = order.authorisation
    if held is None:
        return "nothing to capture: the order holds no uncaptured authorisation"
    if ctx.get("amount") != held["amount"]:
        return (f"amount must equal the authorised {held['amount']} "
                f"(got {ctx.get('amount')})")
    return None


def hold_extension_is_positive(order: Order, ctx: Mapping[str, Any]) -> str | None:
    until = ctx.get("until")
    if until is None or (order.hold_expires_at and until <= order.hold_expires_at):
        return "until must be later than the current hold expiry"
    return None


def every_parcel_delivered(order: Order, ctx: Mapping[str, Any]) -> str | None:
    open_parcels = ctx.get("open_parcels", 1)
    return None if open_parcels == 0 else f"{open_parcels} parcel(s) not delivered yet"


def second_person_checked(order: Order, ctx: Mapping[str, Any]) -> str | None:
    """Orders the double-check policy names need a confirmation by someone other than the packer."""
    needed = ctx.get("double_check_needed") or ()
    if not needed:
        return None
    check = order.attrs.get("double_check")
    why = "; ".join(needed)
    if not check:
        return f"a double check by a second person is required ({why}): none recorded yet"
    if check["by"] == ctx.get("actor"):
        return (f"the double check was done by {check['by']}, who is also packing: "
                f"a second person must confirm ({why})")
    return None


def nothing_in_transit(order: Order, ctx: Mapping[str, Any]) -> str | None:
    inbound = ctx.get("inbound_transfers") or ()
    return None if not inbound else f"waiting for transfer {', '.join(inbound)}"


def something_to_ship(order: Order, ctx: Mapping[str, Any]) -> str | None:
    """`ship` creates a parcel per label: without one, the order would pass as shipped (and
    then delivered) with nothing on its way."""
    return None if ctx.get("parcels") else "nothing to ship: no parcel (no label given and " \
        "no stock consumed for this order)"


def payment_can_be_taken(order: Order, ctx: Mapping[str, Any]) -> str | None:
    """Capture at shipping: goods do not leave on an authorisation whose capture failed."""
    failed = ctx.get("capture_failed")
    if failed is None:
        return None
    ref = (order.authorisation or {}).get("payment_ref")
    return (f"the capture of {ref} failed ({failed}): capture it at the provider (its webhook "
            "books it) or cancel the order")


def checker_is_named(order: Order, ctx: Mapping[str, Any]) -> str | None:
    return None if ctx.get("actor") else "the checker must be named"


def refund_within_paid(order: Order, ctx: Mapping[str, Any]) -> str | None:
    amount = ctx.get("amount", 0)
    if amount <= 0:
        return f"refund amount must be positive (got {amount})"
    if order.refunded + amount > order.paid:
        return (f"refund of {amount} would exceed what was paid ({order.paid}, "
                f"already refunded {order.refunded})")
    return None


# --- effects: change the aggregate only; the return value is the history payload ------------

def record_payment(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Captured money is paid; an authorisation kept for capture at shipping (`capture_by`)
    is recorded as such — the order may be fulfilled, nothing is counted as paid yet."""
    order.payment_ref, order.hold_expires_at = ctx["payment_ref"], None
    capture_by = ctx.get("capture_by")
    if capture_by is None:
        order.paid = ctx["amount"]
        return {"amount": order.paid, "payment_ref": order.payment_ref}
    order.attrs["authorisation"] = {"amount": ctx["amount"], "payment_ref": ctx["payment_ref"],
                                    "capture_by": capture_by.isoformat()}
    return {"authorised": ctx["amount"], "payment_ref": order.payment_ref,
            "capture_by": capture_by.isoformat()}


def record_capture(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    held = order.attrs.pop("authorisation")
    order.paid = held["amount"]
    return {"amount": order.paid, "payment_ref": held["payment_ref"]}


def record_pending_payment(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """The stock stays held while the payment settles, until `pay_by` (then it expires)."""
    order.payment_ref, order.hold_expires_at = ctx["payment_ref"], ctx["pay_by"]
    return {"amount": ctx["amount"], "payment_ref": order.payment_ref,
            "method": ctx.get("method"), "pay_by": order.hold_expires_at.isoformat()}


def restart_hold(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """The payment failed: the buyer may pay another way while a fresh hold lasts."""
    failed, order.payment_ref = order.payment_ref, None
    order.hold_expires_at = ctx["hold_until"]
    return {"payment_ref": failed, "hold_until": order.hold_expires_at.isoformat(),
            "reason": ctx.get("reason")}


def note_started_payment(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """A payment started while a decision is pending: the order remembers it, so approval
    waits for it (payment_pending) rather than starting a hold that lapses before it settles."""
    order.payment_ref = ctx["payment_ref"]
    return {"amount": ctx["amount"], "payment_ref": order.payment_ref,
            **({"method": ctx["method"]} if ctx.get("method") else {})}


def forget_payment(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """The payment started while a decision was pending failed: approval will not wait for it."""
    failed, order.payment_ref = order.payment_ref, None
    return {"payment_ref": failed, "reason": ctx.get("reason")}


def wait_for_payment(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Approved with a payment on its way: the stock stays held until `pay_by`."""
    order.hold_expires_at = ctx["pay_by"]
    return {"payment_ref": order.payment_ref, "pay_by": order.hold_expires_at.isoformat(),
            **({"reason": ctx["reason"]} if ctx.get("reason") else {})}


def start_hold(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    order.hold_expires_at = ctx["hold_until"]
    return {"hold_until": order.hold_expires_at.isoformat(), "reason": ctx.get("reason")}


def extend_hold(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    order.hold_expires_at = ctx["until"]
    return {"until": order.hold_expires_at.isoformat()}


def refund_everything_paid(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Money taken goes back (a refund); an authorisation never captured is let go (the money
    sweep voids it at the provider)."""
    owed = order.paid - order.refunded
    order.refunded, order.hold_expires_at = order.paid, None
    held = order.attrs.pop("authorisation", None)
    payload = {"refund": owed, "reason": ctx.get("reason")}
    return payload | ({"released_authorisation": held["amount"]} if held else {})


def record_refund(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    order.refunded += ctx["amount"]
    return {"amount": ctx["amount"], "case": ctx.get("case"), "reason": ctx.get("reason")}


def record_check(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    order.attrs["double_check"] = {"by": ctx["actor"], "at": ctx["at"].isoformat(),
                                   "notes": ctx.get("notes")}
    return {"checked_by": ctx["actor"], "notes": ctx.get("notes")}


def record_packing(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Keep outbound evidence (photo urls, scan ids) with the order; name both people."""
    evidence = list(ctx.get("evidence") or ())
    if evidence:
        order.attrs["outbound_evidence"] = evidence
    check = order.attrs.get("double_check")
    payload = {"packed_by": ctx["actor"], "evidence": evidence, "reason": ctx.get("reason")}
    if check:
        payload |= {"checked_by": check["by"], "double_check": list(
            ctx.get("double_check_needed") or ())}
    return {k: v for k, v in payload.items() if v not in (None, [])}


def refund_if_paid(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """A rejected order gives back what the buyer paid while it waited for the decision."""
    if order.paid:
        return refund_everything_paid(order, ctx)
    return note_reason(order, ctx)


def end_hold(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """The hold lapsed unpaid: its stock goes back (see the step's stock intent)."""
    order.hold_expires_at = None
    return note_reason(order, ctx)


def note_reason(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("reason", "parcels", "shortage", "allocation", "wave")
    return {key: ctx[key] for key in keys if ctx.get(key) is not None}


def record_shipping(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """The parcels' public ids are filled in by the writer once they have rows."""
    return {"parcels": [], **({"reason": ctx["reason"]} if ctx.get("reason") else {})}


# --- side aggregates -------------------------------------------------------------------------

def parcels_for_labels(order: Order, ctx: Mapping[str, Any]) -> list[Shipment]:
    """`ship` creates one parcel per label (carrier, tracking number, source warehouse)."""
    return [Shipment(id=0, order_id=order.id, state=ShipmentState.LABEL_CREATED, version=1,
                     warehouse=label["warehouse"], carrier=label["carrier"],
                     tracking_no=label["tracking_no"], created_at=ctx["at"],
                     promised_by=ctx.get("promised_by"),
                     step_payload={"parcel": n, **label})
            for n, label in enumerate(ctx.get("parcels") or (), start=1)]


# --- timers: when each waiting state falls due ------------------------------------------------

def hold_end(order: Order, now: datetime, timeouts: Timeouts) -> datetime | None:
    return order.hold_expires_at


def review_due(order: Order, now: datetime, timeouts: Timeouts) -> datetime:
    return now + timeouts.review_sla


def verification_due(order: Order, now: datetime, timeouts: Timeouts) -> datetime:
    return now + timeouts.verification


def auto_complete_due(order: Order, now: datetime, timeouts: Timeouts) -> datetime:
    return now + timeouts.auto_complete


def capture_due(order: Order, now: datetime, timeouts: Timeouts) -> datetime | None:
    held = order.authorisation
    return datetime.fromisoformat(held["capture_by"]) if held else None


S = OrderState
# a person (risk review) or the buyer (verification) decides; money may already arrive: the
# order keeps it (`pay` stays in the state), approve makes it paid, reject refunds it
AWAITING_DECISION = (S.VERIFYING, S.UNDER_REVIEW)
PRE_SHIPMENT = (S.CREATED, S.VERIFYING, S.UNDER_REVIEW, S.AWAITING_PAYMENT, S.PAYMENT_PENDING,
                S.PAID, S.PICKING, S.BACKORDERED)
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
    Step("reject", (S.CREATED, *AWAITING_DECISION), S.REJECTED, effect=refund_if_paid,
         stock=(RELEASE,)),
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
    Step("ship", (S.PACKED,), S.SHIPPED, (something_to_ship, payment_can_be_taken),
         record_shipping, spawn=parcels_for_labels),
    Step("deliver", (S.SHIPPED,), S.DELIVERED, (every_parcel_delivered,)),
    Step("close", (S.DELIVERED,), S.COMPLETED, effect=note_reason),
    # a shipped order whose parcels were all settled (delivered, or lost / returned and the
    # buyer compensated) closes without a delivery
    Step("close", (S.SHIPPED,), S.COMPLETED, (every_parcel_delivered,), note_reason),
    Step("cancel", PRE_SHIPMENT, S.CANCELLED, effect=refund_everything_paid,
         stock=(RELEASE, RESTOCK)),
    Step("refund", REFUNDABLE, None, (refund_within_paid,), record_refund, event="refunded"),
    # capture at shipping: the authorisation `pay` kept becomes money (at `ship`, or when
    # the authorisation would otherwise lapse)
    Step("capture", REFUNDABLE, None, (authorisation_uncaptured,), record_capture,
         event="captured", clears=(DeadlineKind.AUTHORISATION_EXPIRY,)),
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
