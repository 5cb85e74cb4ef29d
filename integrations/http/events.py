"""Inbound event routes: each applies one provider event once (see `integrations.ingest`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from integrations.http.deps import ERRORS, CaseId, EntryId, OrderId, Run
from integrations.ingest import corrections, handlers
from integrations.ingest.events import (
    AddressCorrectionIn,
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
from integrations.ingest.once import Outcome
from integrations.service import refunds
from integrations.service.context import Context
from statemachine import ids

router = APIRouter(responses=ERRORS)


class Answer(JSONResponse):
    """The JSON answer of an event route, written by orjson: the same compact UTF-8 JSON as
    Starlette's `json.dumps(…, ensure_ascii=False, separators=(",", ":"))` (keys that are
    not strings turned into strings as json does), ~20 µs less per placement's answer."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def _reply(outcome: Outcome) -> JSONResponse:
    headers = {"Idempotent-Replay": "true"} if outcome.duplicate else None
    return Answer(outcome.body, outcome.status, headers=headers)


@router.post("/v1/shop/orders", status_code=201, tags=["shop"])
def place_order(event: OrderPlaced, run: Run) -> JSONResponse:
    """Place an order: stock hold and risk decision; 201 with the order."""
    return _reply(run(lambda c: handlers.order_placed(c, event)))


@router.post("/v1/shop/orders/{order_id}/cases", status_code=201, tags=["shop"])
def open_case(order_id: OrderId, event: AfterSalesRequest, run: Run) -> JSONResponse:
    """An after-sales request (refund, return, exchange, repair) on some order lines."""
    return _reply(run(lambda c: handlers.case_requested(c, order_id, event)))


@router.post("/v1/shop/orders/{order_id}/verification", tags=["shop"])
def verification_answer(order_id: OrderId, event: VerificationAnswer, run: Run) -> JSONResponse:
    """The buyer's step-up verification code: right → approved; the third wrong → rejected."""
    return _reply(run(lambda c: handlers.verification_answered(c, order_id, event)))


@router.post("/v1/shop/buyers", tags=["shop"])
def buyer_signed_up(event: BuyerSignedUp, run: Run) -> JSONResponse:
    """When a buyer really signed up: account age and "new account + bulk" need it."""
    return _reply(run(lambda c: handlers.buyer_signed_up(c, event)))


@router.post("/v1/ops/lists", status_code=201, tags=["ops"])
def list_entry_added(event: ListEntryIn, run: Run) -> JSONResponse:
    """Put a buyer / device / phone / address / IP on the block or allow list."""
    return _reply(run(lambda c: handlers.list_entry_added(c, event)))


@router.post("/v1/ops/lists/{entry_id}/removal", tags=["ops"])
def list_entry_removed(entry_id: EntryId, event: ListEntryRemoval,
                       run: Run) -> JSONResponse:
    """Take a list entry off (kept as removed, for the audit trail)."""
    return _reply(run(lambda c: handlers.list_entry_removed(c, entry_id, event)))


@router.post("/v1/ops/orders/{order_id}/address", tags=["ops"])
def address_correction(order_id: OrderId, event: AddressCorrectionIn, run: Run) -> JSONResponse:
    """Correct an order's address before it ships (checked as placement checks it, and by its
    address rules); `changed` false when the order has that address already."""
    return _reply(run(lambda c: corrections.address_corrected(c, order_id, event)))


@router.post("/v1/payments/events", tags=["payments"])
def payment_event(event: PaymentEvent, run: Run) -> JSONResponse:
    """Gateway event: succeeded → pay (late money: revived or refunded by policy), refunded /
    chargeback → refund, failed → recorded."""
    outcome = run(lambda c: handlers.payment_event(c, event))
    return _reply(handlers.late_refund(run.ctx, outcome))  # after the commit, as the hooks do


@router.post("/v1/carriers/events", tags=["carriers"])
def carrier_event(event: CarrierEvent, run: Run) -> JSONResponse:
    """Tracking event; out-of-order and late events are recorded with a note (200)."""
    return _reply(run(lambda c: handlers.carrier_event(c, event)))


@router.post("/v1/reviews/cases/{case_id}/decision", tags=["reviews"])
def case_decision(case_id: CaseId, event: ReviewDecision, run: Run) -> JSONResponse:
    """Grant or refuse an after-sales request held for a person. Granting a refund-only one
    pays the buyer back through the payment provider after the decision commits: `refund`
    says how it ended, as `pilot.cases.refund` answers (`status` succeeded; pending: the money
    sweep makes the call again; refused: `error` says why, the approval stands — `refund`,
    the operation's key, is null when the store refused it before asking the provider;
    pending with `in_admin_of` and `note`: an order paid through Shopify, refunded by the
    merchant in Shopify's admin); `case` is the case then. A return's refund follows the
    inspection: no `refund`."""
    outcome = run(lambda c: handlers.case_decided(c, case_id, event))
    return _reply(_paid_back(run.ctx, outcome))


def _paid_back(ctx: Context, outcome: Outcome) -> Outcome:
    """After the commit: make the call of the refund a grant recorded (a replay makes it with
    the same key — the provider pays once — or finds it settled) and answer as it ended."""
    recorded = outcome.body.get("refund")
    if not recorded:
        return outcome
    number = ids.CASE.parse(outcome.body["case"]["id"])
    # the decision's own time is not in its logged answer: the payment is booked at this
    # request's (a replay's is the replay's)
    now = ctx.clock.now()
    if "operation" in recorded:  # a decision logged before the answer named its status
        granted = refunds.Granted(number, 0, "", key=recorded["operation"], at=now)
    else:
        granted = refunds.Granted(number, **recorded, at=now)
    refund = refunds.paid_back(ctx, granted)
    return replace(outcome, body={**outcome.body, "case": refund.case.model_dump(mode="json"),
                                  "refund": refund.model_dump(mode="json", exclude={"case"})})


@router.post("/v1/reviews/orders/{order_id}/decision", tags=["reviews"])
def review_decision(order_id: OrderId, event: ReviewDecision, run: Run) -> JSONResponse:
    """Approve or reject an order held for risk review."""
    return _reply(run(lambda c: handlers.review_decided(c, order_id, event)))
