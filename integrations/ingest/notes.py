"""Notes and messages attached to an order (staff notes, buyer messages, photo links)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from integrations.db import records
from integrations.service.context import Context
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


def add_note(ctx: Context, order_no: int, text: str, author: str, kind: str = "note") -> NoteView:
    """Attach a note to an existing order (NotFound otherwise); returns it as stored."""
    with ctx.tx() as tx:
        tx.store.get_order(order_no)
        note_id = records.note_add(tx.connection, order_no, kind, author, text, ctx.clock.now())
        rows = records.notes_of(tx.connection, order_no)
    return next(_view(r) for r in rows if r.id == note_id)


def notes_of(ctx: Context, order_no: int) -> list[NoteView]:
    with ctx.tx(readonly=True) as tx:
        tx.store.get_order(order_no)
        return [_view(r) for r in records.notes_of(tx.connection, order_no)]


def _view(row) -> NoteView:
    return NoteView(id=row.id, order_id=ids.ORDER(row.order_id), kind=row.kind, author=row.author,
                    text=row.text, attachments=list(row.attachments or []), at=row.at)
