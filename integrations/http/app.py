"""The webhook / ingestion HTTP app: `create_app(context)` → FastAPI.

Every route under `/v1/<source>/` is authenticated by `SignatureMiddleware` with that source's
secret (shop, payments, carriers, reviews, ops). Inbound events are applied once per event id;
a duplicate returns the original response with `Idempotent-Replay: true`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Path
from fastapi.responses import JSONResponse
from sqlalchemy import text

from integrations.http import errors
from integrations.http.auth import SignatureMiddleware
from integrations.http.settings import HttpSettings
from integrations.ingest import handlers, notes
from integrations.ingest.events import (
    AfterSalesRequest,
    CarrierEvent,
    NoteIn,
    OrderPlaced,
    PaymentEvent,
    ReviewDecision,
)
from integrations.ingest.notes import NoteView
from integrations.ingest.once import Outcome
from integrations.service.context import Context
from integrations.service.inputs import parse_id
from integrations.service.views import CaseView, OrderView, ShipmentView, TransitionView
from statemachine.order import ORDER_LIFECYCLE

OrderId = Annotated[str, Path(pattern=r"^o-\d{1,18}$", description="an order id like o-42",
                              examples=["o-1"])]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing, stale or wrong signature"},
    404: {"description": "unknown order, parcel or case"},
    409: {"description": "not allowed in the current state (body lists allowed triggers)"},
    413: {"description": "body too large"},
    422: {"description": "malformed body; `problems` names each bad field"},
}
READ_ERRORS = {k: v for k, v in ERRORS.items() if k in (401, 404, 413, 422)}


def create_app(ctx: Context, settings: HttpSettings | None = None) -> FastAPI:
    """The app, wired to one service context; secrets come from `settings` (environment)."""
    settings = settings or HttpSettings()
    app = FastAPI(title="orderpilot ingestion", version="1",
                  description="Signed webhooks in (HMAC-SHA256), order reads out.")
    app.add_middleware(SignatureMiddleware, settings=settings, clock=ctx.clock)
    errors.install(app)
    _events(app, ctx)
    _reads(app, ctx)
    return app


def _reply(outcome: Outcome) -> JSONResponse:
    headers = {"Idempotent-Replay": "true"} if outcome.duplicate else None
    return JSONResponse(outcome.body, outcome.status, headers=headers)


def _events(app: FastAPI, ctx: Context) -> None:
    @app.get("/health", tags=["ops"])
    def health() -> dict[str, str]:
        with ctx.tx(readonly=True) as tx:
            tx.connection.execute(text("SELECT 1"))
        return {"status": "ok"}

    @app.post("/v1/shop/orders", status_code=201, tags=["shop"], responses=ERRORS)
    def place_order(event: OrderPlaced) -> JSONResponse:
        """Place an order: stock hold and risk decision; 201 with the order."""
        return _reply(handlers.order_placed(ctx, event))

    @app.post("/v1/shop/orders/{order_id}/cases", status_code=201, tags=["shop"],
              responses=ERRORS)
    def open_case(order_id: OrderId, event: AfterSalesRequest) -> JSONResponse:
        """An after-sales request (refund, return, exchange, repair) on some order lines."""
        return _reply(handlers.case_requested(ctx, order_id, event))

    @app.post("/v1/payments/events", tags=["payments"], responses=ERRORS)
    def payment_event(event: PaymentEvent) -> JSONResponse:
        """Gateway event: succeeded → pay, refunded / chargeback → refund, failed → recorded."""
        return _reply(handlers.payment_event(ctx, event))

    @app.post("/v1/carriers/events", tags=["carriers"], responses=ERRORS)
    def carrier_event(event: CarrierEvent) -> JSONResponse:
        """Tracking event; out-of-order and late events are recorded with a note (200)."""
        return _reply(handlers.carrier_event(ctx, event))

    @app.post("/v1/reviews/orders/{order_id}/decision", tags=["reviews"], responses=ERRORS)
    def review_decision(order_id: OrderId, event: ReviewDecision) -> JSONResponse:
        """Approve or reject an order held for risk review."""
        return _reply(handlers.review_decided(ctx, order_id, event))


def _reads(app: FastAPI, ctx: Context) -> None:
    @app.get("/v1/ops/orders/{order_id}", tags=["ops"], responses=READ_ERRORS)
    def order_detail(order_id: OrderId) -> dict[str, Any]:
        """The order, its allowed triggers, parcels and after-sales cases."""
        with ctx.tx(readonly=True) as tx:
            order = tx.store.get_order(parse_id("order_id", order_id, "o"))
            return {"order": OrderView.of(order).model_dump(mode="json"),
                    "allowed_triggers": ORDER_LIFECYCLE.allowed(order.state),
                    "shipments": [ShipmentView.of(s).model_dump(mode="json")
                                  for s in tx.store.shipments_of(order.id)],
                    "cases": [CaseView.of(c).model_dump(mode="json")
                              for c in tx.store.cases_of(order.id)]}

    @app.get("/v1/ops/orders/{order_id}/history", tags=["ops"], responses=READ_ERRORS)
    def order_history(order_id: OrderId) -> list[TransitionView]:
        """Every transition of the order, its parcels and cases, with actor and time."""
        number = parse_id("order_id", order_id, "o")
        with ctx.tx(readonly=True) as tx:
            tx.store.get_order(number)
            return [TransitionView.of(row) for row in tx.store.history(number)]

    @app.get("/v1/ops/orders/{order_id}/risk", tags=["ops"], responses=READ_ERRORS)
    def order_risk(order_id: OrderId) -> dict[str, Any]:
        """The risk decision taken at placement, with its reasons."""
        with ctx.tx(readonly=True) as tx:
            order = tx.store.get_order(parse_id("order_id", order_id, "o"))
        return {"order_id": order.public_id, **(order.attrs.get("risk") or {})}

    @app.get("/v1/ops/orders/{order_id}/notes", tags=["ops"], responses=READ_ERRORS)
    def order_notes(order_id: OrderId) -> list[NoteView]:
        return notes.notes_of(ctx, parse_id("order_id", order_id, "o"))

    @app.post("/v1/ops/orders/{order_id}/notes", status_code=201, tags=["ops"],
              responses=READ_ERRORS)
    def add_note(order_id: OrderId, note: NoteIn) -> NoteView:
        """Attach a staff note or a buyer message to the order."""
        return notes.add_note(ctx, parse_id("order_id", order_id, "o"), note.text,
                              note.author, note.kind)
