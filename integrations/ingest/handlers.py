"""Inbound events → service calls: placement, payments, carrier scans, after-sales, reviews.

Each handler validates what the body alone cannot (the order exists, currencies match), then
calls the same service functions as the Python API inside one transaction (see `once`).
"""

from __future__ import annotations

from typing import Any

from integrations.db import records
from integrations.ingest.events import (
    AfterSalesRequest,
    BuyerSignedUp,
    CarrierEvent,
    ListEntryIn,
    ListEntryRemoval,
    OrderPlaced,
    PaymentEvent,
    ReviewDecision,
    VerificationAnswer,
)
from integrations.ingest.once import (
    Applied,
    IdempotencyConflict,
    Outcome,
    event_key,
    once,
    replayed,
)
from integrations.risk import lists_store, operations
from integrations.risk.views import BlacklistEntryView
from integrations.service import aftersales, money, orders, refunds, shipments, verification
from integrations.service.context import Context, Tx
from integrations.service.idempotency import KeyReused, request_digest
from integrations.service.inputs import OpenCase, parse, parse_id
from integrations.service.late_payments import is_late, not_its_payment, take_late_money
from integrations.service.views import CaseView, OrderView, ShipmentView
from statemachine import ids
from statemachine.errors import InvalidInput
from statemachine.order import AWAITING_DECISION, takes_payment, waits_for
from statemachine.order_aggregate import Order, OrderState
from statemachine.tracking import CarrierStatus, plan_tracking

PAYMENT_RECORD_KIND = {"succeeded": "capture", "failed": "failed", "refunded": "refund",
                       "chargeback": "chargeback", "pending": "pending"}
SCAN_TRIGGERS = {"pick_up", "scan", "out_for_delivery", "deliver"}


def order_placed(ctx: Context, event: OrderPlaced) -> Outcome:
    """Place the order (stock hold + risk decision) and log the event in one transaction;
    201 with the order as it stands."""
    key = event_key("shop", event)
    request = event.order.model_copy(update={"idempotency_key": key})
    try:
        contact = orders.contact_of(request)  # before the transaction: parsing takes ms
    except InvalidInput as error:
        prior = replayed(ctx, "shop", event)  # a logged event answers as it did, parsed or not
        if prior is not None:
            return prior
        raise _as_body_fields(error) from None
    digest = request_digest(request)

    def apply(tx: Tx, _: Any) -> Applied:
        try:
            order = orders.place_in(ctx, tx, request, "shop", ctx.clock.now(), contact, digest)
        except KeyReused:  # the same event id was placed with another body: the first stands
            raise IdempotencyConflict(key) from None
        except InvalidInput as error:
            raise _as_body_fields(error) from None
        return Applied(order.id, True, {"order": _order(tx, order.id)})

    outcome = orders.planning_again(
        lambda: once(ctx, "shop", "order.placed", event, apply, status=201, inbox=False))
    if order := outcome.body.get("order"):  # absent when the answer is an error replayed
        verification.after_placement(ctx, parse_id("order_id", order["id"], "o"),
                                     OrderState(order["state"]))
    return outcome


def _as_body_fields(error: InvalidInput) -> InvalidInput:
    """Name fields as the body has them: order.lines[0].sku."""
    return InvalidInput({f"order.{k}": v for k, v in error.problems.items()})


def case_requested(ctx: Context, order_id: str, event: AfterSalesRequest) -> Outcome:
    """Open an after-sales case; photo links are attached to the order as a note."""
    number = parse_id("order_id", order_id, "o")
    request = parse(OpenCase, {"kind": event.kind, "reason": event.reason,
                               "lines": [ln.model_dump() for ln in event.lines]})

    def prepare(key: str) -> int:
        try:
            return aftersales.open_case(ctx, number, request, "buyer", key)
        except KeyReused:
            raise IdempotencyConflict(key) from None

    def apply(tx: Tx, case_id: int) -> Applied:
        if event.photos:
            records.note_add(tx.connection, number, "photos", "buyer",
                             f"photos for case {ids.CASE(case_id)}", ctx.clock.now(),
                             [str(url) for url in event.photos])
        case = CaseView.of(tx.store.get_case(case_id)).model_dump(mode="json")
        return Applied(number, True, {"case": case, "order": _order(tx, number)})

    return once(ctx, "shop", "case.requested", event, apply, prepare, status=201)


def payment_event(ctx: Context, event: PaymentEvent) -> Outcome:
    """Apply a gateway event: capture pays, refund / chargeback refund, failure is recorded.
    Money the order cannot take, or that is not its total in its currency, is late
    (late_payments.py: revived or refunded by policy, a wrong amount or currency always
    refunded, as the providers' webhooks do; the body's `late_payment` says which;
    `late_refund` makes the refund after the commit); the same payment reported again for an
    order it paid changes nothing. `pilot.orders.pay` applies its reports here too
    (payment_reports.py)."""
    number = parse_id("order_id", event.order_id, "o")

    def apply(tx: Tx, _: Any) -> Applied:
        order = tx.store.get_order(number, lock=True)
        # money that arrived is booked whatever its currency; a refund, a chargeback or a
        # payment merely started in another currency is the sender's mistake: refused
        if event.currency not in (None, order.currency) and event.type != "succeeded":
            raise InvalidInput({"currency": f"order {order.public_id} is in {order.currency} "
                                            f"(got {event.currency})"})
        body: dict[str, Any] = {}
        if event.type == "succeeded" and order.paid and order.payment_ref == event.payment_ref:
            return Applied(number, False, {"order": _order(tx, number)},
                           f"already paid by {event.payment_ref}")  # reported again
        wrong = _not_the_total(order, event)
        late_money = wrong is not None or is_late(order, event.payment_ref)
        if event.type == "succeeded" and late_money:
            late = take_late_money(ctx, tx, order, event.amount, event.payment_ref, "payments",
                                   wrong, currency=event.currency or order.currency)
            body = {"late_payment": {"revived": late.revived, "refund": late.refund_key}}
            if not late.new:  # this late money was already recorded
                return Applied(number, False, {"order": _order(tx, number), **body}, late.note)
            kind, applied, note, case_id = late.ledger_kind, True, late.note, None
        else:
            kind = PAYMENT_RECORD_KIND[event.type]
            applied, note, case_id = _PAYMENT[event.type](ctx, tx, order, event)
        records.payment_add(tx.connection, {  # in the currency it came in (late money's may
            "order_id": number, "kind": kind, "amount": event.amount,  # not be the order's)
            "currency": event.currency or order.currency, "provider_ref": event.payment_ref,
            "case_id": case_id,
            "event_key": f"payments:{event.event_id}", "reason": event.reason,
            "at": event.occurred_at or ctx.clock.now()})
        return Applied(number, applied, {"order": _order(tx, number), **body}, note)

    return once(ctx, "payments", f"payment.{event.type}", event, apply)


def late_refund(ctx: Context, outcome: Outcome) -> None:
    """After the commit: make the refund of late money a payment event recorded (its key is
    the payment's; a repeat, or a refund made already, changes nothing; a transient failure
    is left to the money sweep)."""
    refund = (outcome.body.get("late_payment") or {}).get("refund")
    if refund:
        money.execute_quietly(ctx, [refund])


def _captured(ctx: Context, tx: Tx, order: Order, event: PaymentEvent) -> tuple:
    """The money arrived and the order can take it: it is paid (or, waiting for a decision,
    keeps it). (Money it cannot take is revived by policy or refunded before this:
    late_payments.py.)"""
    orders.fire(ctx, tx, order, "pay", "gateway",
                {"amount": event.amount, "payment_ref": event.payment_ref})
    return True, None, None


def _not_the_total(order: Order, event: PaymentEvent) -> str | None:
    """Why money taken for an order waiting for its payment cannot be that payment (another
    currency or amount: late money, refunded, as the providers' webhooks book it); None when
    it can, or when the order takes no payment (then it is late for that). Money in another
    currency is never the order's, whatever its state: an expired order must not be revived
    with it (12,900 US cents would pay ¥129), the revive step compares amounts only."""
    currency = event.currency or order.currency
    if not takes_payment(order) and currency == order.currency:
        return None
    return not_its_payment(order, event.amount, currency)


def _pending(ctx: Context, tx: Tx, order: Order, event: PaymentEvent) -> tuple:
    """A payment started that has not settled (bank transfer, card authorised)."""
    if order.state in (OrderState.PAYMENT_PENDING, *AWAITING_DECISION) \
            and order.payment_ref == event.payment_ref:
        return False, "the order already waits for this payment", None
    if order.state in AWAITING_DECISION:  # approval then waits for it (payment_pending)
        if not takes_payment(order) or order.payment_ref is not None:  # paid, or another
            return False, f"payment started while {order.state}, which has money or a " \
                          f"payment on its way ({order.payment_ref}): recorded only", None
        orders.fire(ctx, tx, order, "start_payment", "gateway", {
            "amount": event.amount, "payment_ref": event.payment_ref})
        return True, f"payment started while {order.state}: the order takes the money when " \
                     "it settles, and waits for it once approved", None
    orders.fire(ctx, tx, order, "start_payment", "gateway", {
        "amount": event.amount, "payment_ref": event.payment_ref})
    return True, "the order waits in payment_pending until the payment settles", None


def _failed(ctx: Context, tx: Tx, order: Order, event: PaymentEvent) -> tuple:
    if waits_for(order, event.payment_ref):
        before = order.state
        orders.fire(ctx, tx, order, "fail_payment", "gateway",
                    {"payment_ref": event.payment_ref, "reason": event.reason})
        if before is OrderState.PAYMENT_PENDING:
            return True, "the pending payment failed; the buyer may pay again", None
        return True, f"the payment started while {before} failed", None  # approval won't wait
    return False, f"payment failed; order stays {order.state} until paid or expired", None


def _refunded(ctx: Context, tx: Tx, order: Order, event: PaymentEvent) -> tuple:
    if event.case_id is None:
        orders.fire(ctx, tx, order, "refund", "gateway",
                    {"amount": event.amount, "reason": event.reason or "refunded at the gateway"})
        return True, None, None
    case = tx.store.get_case(parse_id("case_id", event.case_id, "c"))
    if case.order_id != order.id:
        raise InvalidInput({"case_id": f"{case.public_id} belongs to {ids.ORDER(case.order_id)}, "
                                       f"not {order.public_id}"})
    return False, f"confirms the refund of {case.public_id}; recorded only", case.id


def _chargeback(ctx: Context, tx: Tx, order: Order, event: PaymentEvent) -> tuple:
    orders.fire(ctx, tx, order, "refund", "gateway",
                {"amount": event.amount, "reason": f"chargeback: {event.reason or 'no reason'}"})
    tx.writer.signal("chargeback", "order", order.id, order.id, ctx.clock.now(),
                           {"amount": event.amount, "payment_ref": event.payment_ref})
    operations.charge_back(ctx, tx.connection, order, by="gateway", at=ctx.clock.now(),
                           note=f"chargeback {event.payment_ref}: {event.reason or 'no reason'}")
    return True, "chargeback booked as a refund; buyer credit lowered; ops alerted", None


_PAYMENT = {"succeeded": _captured, "failed": _failed, "refunded": _refunded,
            "chargeback": _chargeback, "pending": _pending}


def carrier_event(ctx: Context, event: CarrierEvent) -> Outcome:
    """Apply a tracking event; stale or out-of-order events are recorded, never fatal."""
    def apply(tx: Tx, _: Any) -> Applied:
        number = records.shipment_by_tracking(tx.connection, event.carrier, event.tracking_no)
        shipment = tx.store.get_shipment(number, lock=True)
        plan = plan_tracking(shipment.state, event.status, shipment.reached)
        for trigger in plan.triggers:
            shipments.fire(ctx, tx, shipment, trigger, f"carrier:{event.carrier}",
                           _scan_params(trigger, event))
        if not plan.triggers:
            tx.writer.signal("tracking_recorded", "shipment", shipment.id,
                                   shipment.order_id, ctx.clock.now(),
                                   {"status": event.status.value, "note": plan.note})
        body = {"shipment": ShipmentView.of(shipment).model_dump(mode="json"),
                "order": _order(tx, shipment.order_id)}
        return Applied(shipment.order_id, bool(plan.triggers), body, plan.note)

    return once(ctx, "carriers", f"tracking.{event.status.value}", event, apply)


def _scan_params(trigger: str, event: CarrierEvent) -> dict[str, Any]:
    if trigger in SCAN_TRIGGERS:
        return {k: v for k, v in {"location": event.location,
                                  "scan_id": event.event_id}.items() if v}
    default = "carrier exception" if event.status is CarrierStatus.EXCEPTION else None
    reason = event.reason or default
    return {"reason": reason} if reason else {}


def verification_answered(ctx: Context, order_id: str, event: VerificationAnswer) -> Outcome:
    """The buyer's code for an order in step-up verification (approves, or uses an attempt)."""
    number = parse_id("order_id", order_id, "o")

    def apply(tx: Tx, _: Any) -> Applied:
        result = verification.answer_in(ctx, tx, number, event.code, ctx.clock.now())
        return Applied(number, result.passed, {
            "passed": result.passed, "attempts_left": result.attempts_left,
            "order": _order(tx, number)})

    return once(ctx, "shop", "verification.answered", event, apply)


def buyer_signed_up(ctx: Context, event: BuyerSignedUp) -> Outcome:
    """The shop tells risk control when a buyer really signed up ("new account + bulk")."""
    def apply(tx: Tx, _: Any) -> Applied:
        operations.register_signup(tx.connection, event.buyer_id, event.signed_up_at)
        return Applied(None, True, {"buyer_id": event.buyer_id,
                                    "signed_up_at": event.signed_up_at.isoformat()})

    return once(ctx, "shop", "buyer.signed_up", event, apply)


def list_entry_added(ctx: Context, event: ListEntryIn) -> Outcome:
    """An analyst's tool puts a value on the block or allow list (reason, author, expiry)."""
    def apply(tx: Tx, _: Any) -> Applied:
        row = operations.add_list_entry(
            tx.connection, event.list, event.kind, event.value, by=event.author,
            reason=event.reason, at=ctx.clock.now(), expires_at=event.expires_at,
            evidence=event.evidence)
        return Applied(None, True, {"entry": BlacklistEntryView(**row).model_dump(mode="json")})

    return once(ctx, "ops", f"list.{event.list}.added", event, apply, status=201)


def list_entry_removed(ctx: Context, entry_id: int, event: ListEntryRemoval) -> Outcome:
    """Take an entry off its list (kept as removed, for the audit trail)."""
    def apply(tx: Tx, _: Any) -> Applied:
        row = lists_store.remove_entry(tx.connection, entry_id, by=event.author,
                                       at=ctx.clock.now())
        return Applied(None, True, {"entry": BlacklistEntryView(**row).model_dump(mode="json")})

    return once(ctx, "ops", "list.removed", event, apply)


def review_decided(ctx: Context, order_id: str, event: ReviewDecision) -> Outcome:
    """A reviewer approves or rejects an order held for review."""
    number = parse_id("order_id", order_id, "o")

    def apply(tx: Tx, _: Any) -> Applied:
        order = tx.store.get_order(number, lock=True)
        orders.fire(ctx, tx, order, event.decision, f"reviewer:{event.reviewer}",
                    {"reason": event.reason} if event.reason else {})
        return Applied(number, True, {"order": _order(tx, number)})

    return once(ctx, "reviews", f"review.{event.decision}", event, apply)


def case_decided(ctx: Context, case_id: str, event: ReviewDecision) -> Outcome:
    """A reviewer grants or refuses an after-sales request held for a person; granting a
    refund-only one records its refund with it (`refund.operation`, paid after the commit:
    http/events.py)."""
    number, actor = parse_id("case_id", case_id, "c"), f"reviewer:{event.reviewer}"

    def apply(tx: Tx, _: Any) -> Applied:
        case = tx.store.get_case(number, lock=True)  # the order's lock
        aftersales.fire(ctx, tx, case, event.decision, actor,
                        {"reason": event.reason} if event.reason else {})
        key = refunds.record_granted(ctx, tx, number, actor) if \
            event.decision == "approve" else None
        return Applied(case.order_id, True, {"case": CaseView.of(tx.store.get_case(number))
                                             .model_dump(mode="json"),
                                             **({"refund": {"operation": key}} if key else {})})

    return once(ctx, "reviews", f"case.{event.decision}", event, apply)


def _order(tx: Tx, number: int) -> dict[str, Any]:
    return OrderView.of(tx.store.get_order(number)).model_dump(mode="json")
