"""The fulfilment part of the evidence pack: outbound evidence taken at packing (photos, scan
ids), who double-checked, and the parcel claims (what the buyer got, what the carrier paid)."""

from __future__ import annotations

from typing import Any

from integrations.service.claims import claims_view
from integrations.service.context import Tx
from statemachine.order_aggregate import Order


def fulfilment_section(tx: Tx, order: Order) -> dict[str, Any]:
    claims = [{k: c[k] for k in ("id", "shipment_id", "kind", "state", "compensation",
                                 "compensated", "goods_value", "claimed", "recovered")}
              | {"photos": c["details"].get("photos", [])}
              for c in claims_view(tx, order_id=order.id)]
    return {"outbound_evidence": order.attrs.get("outbound_evidence", []),
            "double_check": order.attrs.get("double_check"), "claims": claims}


def render_fulfilment(section: dict[str, Any] | None) -> str:
    if not section:
        return "## Fulfilment\n\nnone"
    check = section["double_check"]
    lines = ["## Fulfilment", "- outbound evidence: "
             + (", ".join(section["outbound_evidence"]) or "none"),
             f"- double check: {check['by']} at {check['at']}" if check else
             "- double check: not required or not recorded"]
    lines += [f"- claim {c['id']} ({c['kind']}, parcel {c['shipment_id']}): buyer got "
              f"{c['compensation']} {c['compensated']}; carrier claim {c['state']}, claimed "
              f"{c['claimed']}, recovered {c['recovered']}"
              + (f"; photos {' '.join(c['photos'])}" if c["photos"] else "")
              for c in section["claims"]]
    return "\n".join(lines)
