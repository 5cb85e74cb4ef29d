"""Public API for the integration features: order notes, evidence packs, the HTTP app.

    from orderpilot import OrderPilot
    from orderpilot.api_integrations import add_note, evidence_pack
    pilot = OrderPilot()
    add_note(pilot, "o-42", "buyer called about the address", by="amy")
    evidence_pack(pilot, "o-42", "evidence/")
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from integrations.ingest import notes as note_service
from integrations.ingest.events import NoteIn
from integrations.ingest.notes import NoteView
from integrations.service.inputs import parse, parse_id
from orderpilot.api import OrderPilot

if TYPE_CHECKING:
    from fastapi import FastAPI

    from integrations.evidence.pack import EvidenceFiles
    from integrations.http.settings import HttpSettings


def add_note(pilot: OrderPilot, order_id: str, text: str, *, by: str,
             kind: str = "note") -> NoteView:
    """Attach a note (or a buyer message, kind="message") to an order; nothing on bad input."""
    note = parse(NoteIn, {"text": text, "author": by, "kind": kind})
    return note_service.add_note(pilot.context, parse_id("order_id", order_id, "o"), note.text,
                                 note.author, note.kind)


def notes(pilot: OrderPilot, order_id: str) -> list[NoteView]:
    return note_service.notes_of(pilot.context, parse_id("order_id", order_id, "o"))


def evidence_pack(pilot: OrderPilot, order_id: str, out_dir: str | Path, *,
                  reveal_pii: bool = False) -> EvidenceFiles:
    """Write `<order>-evidence.json` and `.md` (timeline, risk, money, parcels, cases, notes,
    buyer history); phone, street and recipient are masked unless `reveal_pii`."""
    from integrations.evidence.pack import write_pack

    return write_pack(pilot.context, parse_id("order_id", order_id, "o"), Path(out_dir),
                      reveal_pii)


def http_app(pilot: OrderPilot, settings: HttpSettings | None = None) -> FastAPI:
    """The signed-webhook ingestion app on this pilot's store (serve it with uvicorn)."""
    from integrations.http.app import create_app

    return create_app(pilot.context, settings)
