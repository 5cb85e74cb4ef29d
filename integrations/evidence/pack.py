"""Evidence pack: everything a merchant hands the platform about one order, in one bundle.

The timeline (every transition with actor and time), the risk decision and its reasons, payment
and refund records, parcel tracking (applied and ignored carrier events), after-sales cases with
the inspection result, notes and messages, and the buyer's history. Unless `reveal_pii` is set,
every field and every free text in the pack is masked (`masking.mask_doc`): phone, street,
recipient, IP and e-mail fields, phones / IPs / e-mails written anywhere, and the order's own
address and phone wherever they are quoted (a risk reason, a cancel reason, a note).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from integrations.db import buyers, records
from integrations.db.risk_credit import credit_history
from integrations.evidence.fulfilment import fulfilment_section
from integrations.evidence.markdown import render_markdown
from integrations.notifications.masking import known_pii, mask_doc
from integrations.service.context import Context, Tx
from integrations.service.views import CaseView, OrderView, ShipmentView, TransitionView
from statemachine import ids


@dataclass(frozen=True, slots=True)
class EvidenceFiles:
    json_path: Path
    markdown_path: Path
    pack: dict[str, Any]


def build_pack(ctx: Context, order_no: int, reveal_pii: bool = False) -> dict[str, Any]:
    """The pack as plain JSON-ready data (NotFound for an unknown order)."""
    with ctx.tx(readonly=True) as tx:
        order = tx.store.get_order(order_no)
        history = [TransitionView.of(r).model_dump(mode="json")
                   for r in tx.store.history(order_no)]
        pack = {
            "generated_at": ctx.clock.now().isoformat(),
            "pii": "revealed" if reveal_pii else "masked",
            "order": _order(order),
            "risk": order.attrs.get("risk"),
            "timeline": history,
            "payments": _payments(tx, order_no),
            "shipments": _shipments(tx, order_no, history),
            "cases": _cases(tx, order_no, history),
            "notes": _notes(tx, order_no),
            "inbound_events": _inbound(tx, order_no),
            "buyer": _buyer(tx, order.buyer_id),
            "fulfilment": fulfilment_section(tx, order),
        }
    return pack if reveal_pii else mask_doc(pack, known_pii(order.attrs))


def write_pack(ctx: Context, order_no: int, out_dir: Path,
               reveal_pii: bool = False) -> EvidenceFiles:
    """Write `o-N-evidence.json` and `o-N-evidence.md` into `out_dir` (created if needed)."""
    pack = build_pack(ctx, order_no, reveal_pii)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"{ids.ORDER(order_no)}-evidence"
    json_path, md_path = stem.with_suffix(".json"), stem.with_suffix(".md")
    json_path.write_text(json.dumps(pack, indent=2, ensure_ascii=False), encoding="utf-8")
    md_path.write_text(render_markdown(pack), encoding="utf-8")
    return EvidenceFiles(json_path, md_path, pack)


def _order(order: Any) -> dict[str, Any]:
    view = OrderView.of(order).model_dump(mode="json")
    view["device_id"], view["ip"] = order.attrs.get("device_id"), order.attrs.get("ip")
    view["phone"] = order.attrs.get("phone")
    return view


def _payments(tx: Tx, order_no: int) -> list[dict[str, Any]]:
    return [{"kind": r.kind, "amount": r.amount, "currency": r.currency,
             "provider_ref": r.provider_ref, "case_id": ids.CASE(r.case_id) if r.case_id else None,
             "reason": r.reason, "at": _iso(r.at), "event": r.event_key}
            for r in records.payments_of(tx.connection, order_no)]


def _shipments(tx: Tx, order_no: int, history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    carrier_events = records.events_of(tx.connection, order_no, "carriers")
    parcels = []
    for shipment in tx.store.shipments_of(order_no):
        view = ShipmentView.of(shipment).model_dump(mode="json")
        view["scans"] = [h for h in history if h["entity_id"] == shipment.public_id]
        view["carrier_events"] = [
            {"event": e.key, "kind": e.kind, "applied": e.applied, "note": e.note,
             "occurred_at": _iso(e.occurred_at), "received_at": _iso(e.received_at)}
            for e in carrier_events if e.response.get("shipment", {}).get("id") == view["id"]]
        parcels.append(view)
    return parcels


def _cases(tx: Tx, order_no: int, history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cases = []
    for c in tx.store.cases_of(order_no):
        view = CaseView.of(c).model_dump(mode="json")
        view["steps"] = [h for h in history if h["entity_id"] == c.public_id]
        cases.append(view)
    return cases


def _notes(tx: Tx, order_no: int) -> list[dict[str, Any]]:
    return [{"kind": n.kind, "author": n.author, "at": _iso(n.at),
             "text": n.text,
             "attachments": list(n.attachments or [])}
            for n in records.notes_of(tx.connection, order_no)]


def _inbound(tx: Tx, order_no: int) -> list[dict[str, Any]]:
    return [{"event": e.key, "kind": e.kind, "applied": e.applied, "note": e.note,
             "status": e.status_code, "received_at": _iso(e.received_at)}
            for e in records.events_of(tx.connection, order_no)]


def _buyer(tx: Tx, buyer_id: str) -> dict[str, Any]:
    """Counts over all the buyer's orders, and the credit score on record."""
    totals = buyers.order_totals(tx.connection, buyer_id)
    row = buyers.buyer(tx.connection, buyer_id)
    changes = [{"kind": c["kind"], "order_id": ids.ORDER(c["order_id"]) if c["order_id"] else None,
                "before": c["before"], "after": c["after"], "note": c["note"],
                "at": _iso(c["at"])} for c in credit_history(tx.connection, buyer_id)]
    return {"buyer_id": buyer_id, **totals,
            "credit_score": row.credit_score if row is not None else None,
            "credit_changes": changes}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
