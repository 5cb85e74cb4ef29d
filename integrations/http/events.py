"""Inbound event routes: each applies one provider event once (see `integrations.ingest`)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from integrations.http.deps import ERRORS, Ctx, OrderId
from integrations.ingest import handlers
from integrations.ingest.events import (
    AfterSalesRequest,
    CarrierEvent,
    OrderPlaced,
    PaymentEvent,
    ReviewDecision,
    VerificationAnswer,
)
from integrations.ingest.once import Outcome

router = APIRouter(responses=ERRORS)


def _reply(outcome: Outcome) -> JSONResponse:
    headers = {"Idempotent-Replay": "true"} if outcome.duplicate else None
    return JSONResponse(outcome.body, outcome.status, headers=headers)


@router.post("/v1/shop/orders", status_code=201, tags=["shop"])
def place_order(event: OrderPlaced, ctx: Ctx) -> JSONResponse:
    """Place an order: stock hold and risk decision; 201 with the order."""
    return _reply(handlers.order_placed(ctx, event))


@router.post("/v1/shop/orders/{order_id}/cases", status_code=201, tags=["shop"])
def open_case(order_id: OrderId, event: AfterSalesRequest, ctx: Ctx) -> JSONResponse:
    """An after-sales request (refund, return, exchange, repair) on some order lines."""
    return _reply(handlers.case_requested(ctx, order_id, event))


@router.post("/v1/shop/orders/{order_id}/verification", tags=["shop"])
def verification_answer(order_id: OrderId, event: VerificationAnswer, ctx: Ctx) -> JSONResponse:
    """The buyer's step-up verification code: right → approved; the third wrong → rejected."""
    return _reply(handlers.verification_answered(ctx, order_id, event))


@router.post("/v1/payments/events", tags=["payments"])
def payment_event(event: PaymentEvent, ctx: Ctx) -> JSONResponse:
    """Gateway event: succeeded → pay, refunded / chargeback → refund, failed → recorded."""
    return _reply(handlers.payment_event(ctx, event))


@router.post("/v1/carriers/events", tags=["carriers"])
def carrier_event(event: CarrierEvent, ctx: Ctx) -> JSONResponse:
    """Tracking event; out-of-order and late events are recorded with a note (200)."""
    return _reply(handlers.carrier_event(ctx, event))


@router.post("/v1/reviews/orders/{order_id}/decision", tags=["reviews"])
def review_decision(order_id: OrderId, event: ReviewDecision, ctx: Ctx) -> JSONResponse:
    """Approve or reject an order held for risk review."""
    return _reply(handlers.review_decided(ctx, order_id, event))
