"""Read routes for operations staff (signed with the `ops` secret), plus notes and health."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from integrations.http.deps import READ_ERRORS, Ctx, OrderId
from integrations.ingest import notes
from integrations.ingest.events import NoteAdded, NoteIn
from integrations.ingest.notes import NoteView
from integrations.risk import lists_store
from integrations.risk.views import BlacklistEntryView
from integrations.service import listing, orders
from integrations.service.inputs import parse_id
from integrations.service.listing import OrderPage
from integrations.service.views import CaseView, OrderView, ShipmentView, TransitionView
from statemachine.errors import InvalidInput

router = APIRouter(responses=READ_ERRORS, tags=["ops"])


def _number(order_id: str) -> int:
    return parse_id("order_id", order_id, "o")


@router.get("/health", responses={})
def health(ctx: Ctx) -> dict[str, str]:
    with ctx.tx(readonly=True) as tx:
        tx.store.ping()
    return {"status": "ok"}


@router.get("/v1/ops/orders")
def orders_list(ctx: Ctx, state: Annotated[list[str] | None, Query()] = None,
                buyer: str | None = None, since: str | None = None, until: str | None = None,
                risk: str | None = None, text: str | None = None, limit: str | None = None,
                after: str | None = None) -> OrderPage:
    """Orders newest first, filtered; pass `next` back as `after` for the following page."""
    return listing.list_orders(ctx, **_given(state=state, buyer=buyer, since=since, until=until,
                                             risk=risk, text=text, limit=limit, after=after))


@router.get("/v1/ops/orders/export", response_class=Response,
            responses={200: {"content": {"text/csv": {}, "application/json": {}}}})
def orders_export(ctx: Ctx, format: str = "csv",  # noqa: A002 (the query parameter's name)
                  state: Annotated[list[str] | None, Query()] = None, buyer: str | None = None,
                  since: str | None = None, until: str | None = None,
                  risk: str | None = None) -> Response:
    """Every matching order as CSV (header row) or a JSON array."""
    if format not in ("csv", "json"):
        raise InvalidInput({"format": f"expected csv or json (got {format!r})"})
    body = listing.export(ctx, format, **_given(state=state, buyer=buyer, since=since,
                                                until=until, risk=risk))
    return Response(body, media_type="text/csv" if format == "csv" else "application/json")


def _given(**values: object) -> dict[str, object]:
    return {k: v for k, v in values.items() if v is not None}


@router.get("/v1/ops/orders/{order_id}")
def order_detail(order_id: OrderId, ctx: Ctx) -> dict[str, Any]:
    """The order, the triggers a caller may fire on it now (as `pilot.orders.allowed_triggers`
    lists them), its parcels and after-sales cases."""
    with ctx.tx(readonly=True) as tx:
        order = tx.store.get_order(_number(order_id))
        return {"order": OrderView.of(order).model_dump(mode="json"),
                "allowed_triggers": orders.allowed_to_a_caller(ctx, order),
                "shipments": [ShipmentView.of(s).model_dump(mode="json")
                              for s in tx.store.shipments_of(order.id)],
                "cases": [CaseView.of(c).model_dump(mode="json")
                          for c in tx.store.cases_of(order.id)]}


@router.get("/v1/ops/orders/{order_id}/history")
def order_history(order_id: OrderId, ctx: Ctx) -> list[TransitionView]:
    """Every transition of the order, its parcels and cases, with actor and time."""
    with ctx.tx(readonly=True) as tx:
        tx.store.get_order(_number(order_id))
        return [TransitionView.of(row) for row in tx.store.history(_number(order_id))]


@router.get("/v1/ops/orders/{order_id}/risk")
def order_risk(order_id: OrderId, ctx: Ctx) -> dict[str, Any]:
    """The risk decision taken at placement, with its reasons."""
    with ctx.tx(readonly=True) as tx:
        order = tx.store.get_order(_number(order_id))
    return {"order_id": order.public_id, **(order.attrs.get("risk") or {})}


@router.get("/v1/ops/lists")
def list_entries(ctx: Ctx, list_name: Annotated[Literal["block", "allow"] | None,
                                                Query(alias="list")] = None,
                 include_removed: bool = False) -> list[BlacklistEntryView]:
    """Block and allow list entries: value as compared and as typed, reason, author, expiry."""
    with ctx.tx(readonly=True) as tx:
        rows = lists_store.list_entries(tx.connection, include_removed, list_name)
    return [BlacklistEntryView(**r) for r in rows]


@router.get("/v1/ops/orders/{order_id}/notes")
def order_notes(order_id: OrderId, ctx: Ctx) -> list[NoteView]:
    return notes.notes_of(ctx, _number(order_id))


@router.post("/v1/ops/orders/{order_id}/notes", status_code=201)
def add_note(order_id: OrderId, note: NoteIn, ctx: Ctx, response: Response) -> NoteView:
    """Attach a staff note or a buyer message to the order. Sent with an `event_id`, it is
    written once: a resend answers as the first did, with `Idempotent-Replay: true`."""
    if note.event_id is None:
        return notes.add_note(ctx, _number(order_id), note.text, note.author, note.kind)
    outcome = notes.note_added(ctx, NoteAdded(
        event_id=note.event_id, order_id=_number(order_id), text=note.text,
        author=note.author, kind=note.kind))
    if outcome.duplicate:
        response.headers["Idempotent-Replay"] = "true"
    return NoteView.model_validate({k: outcome.body[k] for k in NoteView.model_fields})
