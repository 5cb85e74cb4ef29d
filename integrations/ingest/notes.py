"""Notes and messages attached to an order (staff notes, buyer messages, photo links)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from integrations.db import records
from integrations.ingest.events import NoteAdded
from integrations.ingest.once import Applied, Outcome, once
from integrations.service.contention import retrying
from integrations.service.context import Context, Tx
from statemachine import ids


class NoteView(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    order_id: str
    kind: str
    author: str
    text: str
    attachments: list[str]
    at: datetime


@retrying("adding a note")
def add_note(ctx: Context, order_no: int, text: str, author: str, kind: str = "note") -> NoteView:
    """Attach a note to an existing order (NotFound otherwise); returns it as stored. A command
    without an id: each call writes a note (`note_added` writes one per id)."""
    with ctx.tx() as tx:
        return _added(tx, order_no, text, author, kind, ctx.clock.now())


def note_added(ctx: Context, event: NoteAdded) -> Outcome:
    """A note sent with its id, written once: the same id again answers as the first time
    (`duplicate`), with another body it is refused (IdempotencyConflict)."""
    def apply(tx: Tx, _: Any, now: datetime) -> Applied:
        view = _added(tx, event.order_id, event.text, event.author, event.kind, now)
        return Applied(event.order_id, True, view.model_dump(mode="json"))

    return once(ctx, "ops", "order.note_added", event, apply, status=201)


def _added(tx: Tx, order_no: int, text: str, author: str, kind: str,
           now: datetime) -> NoteView:
    tx.store.get_order(order_no)
    note_id = records.note_add(tx.connection, order_no, kind, author, text, now)
    return next(_view(r) for r in records.notes_of(tx.connection, order_no) if r.id == note_id)


def notes_of(ctx: Context, order_no: int) -> list[NoteView]:
    with ctx.tx(readonly=True) as tx:
        tx.store.get_order(order_no)
        return [_view(r) for r in records.notes_of(tx.connection, order_no)]


def _view(row) -> NoteView:
    return NoteView(id=row.id, order_id=ids.ORDER(row.order_id), kind=row.kind, author=row.author,
                    text=row.text, attachments=list(row.attachments or []), at=row.at)
