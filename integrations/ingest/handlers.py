"""Inbound events → service calls: placement, carrier scans, after-sales, reviews, risk lists.

Each handler validates what the body alone cannot (the order exists, currencies match), then
calls the same service functions as the Python API inside one transaction (see `once`). The
gateway's payment events have a module of their own (gateway_payments.py); `payment_event`
and `late_refund` are imported here too, where the HTTP routes and the tests call them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.db import records
from integrations.ingest.events import (
    AfterSalesRequest,
    BuyerSignedUp,
    CarrierEvent,
    ListEntryIn,
    ListEntryRemoval,
    OrderPlaced,
    ReviewDecision,
    VerificationAnswer,
)
from integrations.ingest.gateway_payments import late_refund as late_refund
from integrations.ingest.gateway_payments import payment_event as payment_event
from integrations.ingest.once import (
    Applied,
    IdempotencyConflict,
    Outcome,
    event_key,
    once,
    order_body,
    replayed,
)
from integrations.risk import lists_store, operations
from integrations.risk.views import BlacklistEntryView
from integrations.service import aftersales, orders, refunds, shipments, verification
from integrations.service.context import Context, Tx
from integrations.service.idempotency import KeyReused, request_digest
from integrations.service.inputs import OpenCase, parse, parse_id
from integrations.service.views import CaseView, OrderView, ShipmentView
from statemachine import ids
from statemachine.errors import InvalidInput
from statemachine.order_aggregate import OrderState
from statemachine.tracking import CarrierStatus, plan_tracking

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

    def apply(tx: Tx, _: Any, now: datetime) -> Applied:
        try:
            order = orders.place_in(ctx, tx, request, "shop", now, contact, digest)
        except KeyReused:  # the same event id was placed with another body: the first stands
            raise IdempotencyConflict(key) from None
        except InvalidInput as error:
            raise _as_body_fields(error) from None
        # the order as placed, not read back: the same view (tests/integration/integ/
        # test_http_placement_answer.py), without a second load of what was just written
        return Applied(order.id, True, {"order": OrderView.of(order).model_dump(mode="json")})

    now = ctx.clock.now()  # one time for the event, the placement and the code it sends
    outcome = orders.planning_again(lambda: once(ctx, "shop", "order.placed", event, apply,
                                                 status=201, inbox=False, now=now))
    if order := outcome.body.get("order"):  # absent when the answer is an error replayed
        verification.after_placement(ctx, parse_id("order_id", order["id"], "o"),
                                     OrderState(order["state"]), now)
    return outcome


def _as_body_fields(error: InvalidInput) -> InvalidInput:
    """Name fields as the body has them: order.lines[0].sku."""
    return InvalidInput({f"order.{k}": v for k, v in error.problems.items()})


def case_requested(ctx: Context, order_id: str, event: AfterSalesRequest) -> Outcome:
    """Open an after-sales case; photo links are attached to the order as a note."""
    number = parse_id("order_id", order_id, "o")
    request = parse(OpenCase, {"kind": event.kind, "reason": event.reason,
                               "lines": [ln.model_dump() for ln in event.lines]})

    def prepare(key: str, now: datetime) -> int:
        try:
            return aftersales.open_case(ctx, number, request, "buyer", key, now)
        except KeyReused:
            raise IdempotencyConflict(key) from None

    def apply(tx: Tx, case_id: int, now: datetime) -> Applied:
        if event.photos:
            records.note_add(tx.connection, number, "photos", "buyer",
                             f"photos for case {ids.CASE(case_id)}", now,
                             [str(url) for url in event.photos])
        case = CaseView.of(tx.store.get_case(case_id)).model_dump(mode="json")
        return Applied(number, True, {"case": case, "order": order_body(tx, number)})

    return once(ctx, "shop", "case.requested", event, apply, prepare, status=201)




def carrier_event(ctx: Context, event: CarrierEvent) -> Outcome:
    """Apply a tracking event; stale or out-of-order events are recorded, never fatal."""
    def apply(tx: Tx, _: Any, now: datetime) -> Applied:
        number = records.shipment_by_tracking(tx.connection, event.carrier, event.tracking_no)
        shipment = tx.store.get_shipment(number, lock=True)
        plan = plan_tracking(shipment.state, event.status, shipment.reached)
        for trigger in plan.triggers:
            shipments.fire(ctx, tx, shipment, trigger, f"carrier:{event.carrier}",
                           _scan_params(trigger, event), now=now)
        if not plan.triggers:
            tx.writer.signal("tracking_recorded", "shipment", shipment.id, shipment.order_id,
                             now, {"status": event.status.value, "note": plan.note})
        body = {"shipment": ShipmentView.of(shipment).model_dump(mode="json"),
                "order": order_body(tx, shipment.order_id)}
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

    def apply(tx: Tx, _: Any, now: datetime) -> Applied:
        result = verification.answer_in(ctx, tx, number, event.code, now)
        return Applied(number, result.passed, {
            "passed": result.passed, "attempts_left": result.attempts_left,
            "order": order_body(tx, number)})

    return once(ctx, "shop", "verification.answered", event, apply)


def buyer_signed_up(ctx: Context, event: BuyerSignedUp) -> Outcome:
    """The shop tells risk control when a buyer really signed up ("new account + bulk")."""
    def apply(tx: Tx, _: Any, now: datetime) -> Applied:
        operations.register_signup(tx.connection, event.buyer_id, event.signed_up_at)
        return Applied(None, True, {"buyer_id": event.buyer_id,
                                    "signed_up_at": event.signed_up_at.isoformat()})

    return once(ctx, "shop", "buyer.signed_up", event, apply)


def list_entry_added(ctx: Context, event: ListEntryIn) -> Outcome:
    """An analyst's tool puts a value on the block or allow list (reason, author, expiry)."""
    def apply(tx: Tx, _: Any, now: datetime) -> Applied:
        row = operations.add_list_entry(
            tx.connection, event.list, event.kind, event.value, by=event.author,
            reason=event.reason, at=now, expires_at=event.expires_at,
            evidence=event.evidence)
        return Applied(None, True, {"entry": BlacklistEntryView(**row).model_dump(mode="json")})

    return once(ctx, "ops", f"list.{event.list}.added", event, apply, status=201)


def list_entry_removed(ctx: Context, entry_id: int, event: ListEntryRemoval) -> Outcome:
    """Take an entry off its list (kept as removed, for the audit trail)."""
    def apply(tx: Tx, _: Any, now: datetime) -> Applied:
        row = lists_store.remove_entry(tx.connection, entry_id, by=event.author, at=now)
        return Applied(None, True, {"entry": BlacklistEntryView(**row).model_dump(mode="json")})

    return once(ctx, "ops", "list.removed", event, apply)


def review_decided(ctx: Context, order_id: str, event: ReviewDecision) -> Outcome:
    """A reviewer approves or rejects an order held for review."""
    number = parse_id("order_id", order_id, "o")

    def apply(tx: Tx, _: Any, now: datetime) -> Applied:
        order = tx.store.get_order(number, lock=True)
        orders.fire(ctx, tx, order, event.decision, f"reviewer:{event.reviewer}",
                    {"reason": event.reason} if event.reason else {}, now=now)
        return Applied(number, True, {"order": order_body(tx, number)})

    return once(ctx, "reviews", f"review.{event.decision}", event, apply)


def case_decided(ctx: Context, case_id: str, event: ReviewDecision) -> Outcome:
    """A reviewer grants or refuses an after-sales request held for a person; granting a
    refund-only one records its refund with it, or the store's refusal of it (`refund`: the
    `refunds.Granted`, paid and answered after the commit: http/events.py)."""
    number, actor = parse_id("case_id", case_id, "c"), f"reviewer:{event.reviewer}"

    def apply(tx: Tx, _: Any, now: datetime) -> Applied:
        case = tx.store.get_case(number, lock=True)  # the order's lock
        aftersales.fire(ctx, tx, case, event.decision, actor,
                        {"reason": event.reason} if event.reason else {}, now=now)
        granted = refunds.record_granted(ctx, tx, number, actor, now) if \
            event.decision == "approve" else None
        recorded = {"refund": {"key": granted.key, "amount": granted.amount,
                               "currency": granted.currency, "refused": granted.refused}
                    } if granted else {}
        return Applied(case.order_id, True, {"case": CaseView.of(tx.store.get_case(number))
                                             .model_dump(mode="json"), **recorded})

    return once(ctx, "reviews", f"case.{event.decision}", event, apply)

