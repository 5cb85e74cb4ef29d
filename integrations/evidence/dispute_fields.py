"""An order's evidence pack mapped onto Stripe's dispute evidence fields (the names Stripe's
`Dispute.evidence` takes). Each text field is cut to what a reviewer reads; the buyer's own
contact details go to the provider unmasked, as the bank needs them."""

from __future__ import annotations

from typing import Any

TEXT = 2000  # characters per free-text field


def stripe_evidence(pack: dict[str, Any], refund_policy: str | None = None) -> dict[str, str]:
    """Stripe evidence fields from the pack of `build_pack(..., reveal_pii=True)`."""
    order, parcels = pack["order"], pack.get("shipments") or []
    address = order.get("shipping_address") or {}
    shipped = [h["at"][:10] for h in pack.get("timeline", []) if h["trigger"] == "ship"]
    fields = {
        "product_description": _cut("; ".join(
            f"{ln['quantity']} × {ln['sku']}" for ln in order.get("lines", []))),
        "shipping_carrier": ", ".join(sorted({p["carrier"] for p in parcels
                                              if p.get("carrier")})),
        "shipping_tracking_number": ", ".join(p["tracking_no"] for p in parcels
                                              if p.get("tracking_no")),
        "shipping_date": shipped[0] if shipped else "",
        "shipping_address": _cut(", ".join(str(v) for k, v in address.items()
                                           if v and k not in ("phone",))),
        "customer_communication": _cut("\n".join(
            f"{n['at']} {n['author']}: {n['text']}" for n in pack.get("notes", []))),
        "refund_policy": _cut(refund_policy or ""),
        "uncategorized_text": _cut(_summary(pack)),
    }
    return {name: value for name, value in fields.items() if value}


def with_extra_text(evidence: dict[str, str], extra: str) -> dict[str, str]:
    """The evidence with a person's paragraph added to the uncategorized text."""
    extra = extra.strip()
    if not extra:
        return dict(evidence)
    text = "\n\n".join(t for t in (evidence.get("uncategorized_text", ""), extra) if t)
    return {**evidence, "uncategorized_text": _cut(text)}


def _summary(pack: dict[str, Any]) -> str:
    order, buyer = pack["order"], pack.get("buyer") or {}
    delivered = [p["id"] for p in pack.get("shipments") or [] if p.get("state") == "delivered"]
    lines = [f"Order {order['id']}: {order['total']} {order['currency']} (minor units), "
             f"state {order['state']}, paid {order['paid']}, refunded {order['refunded']}.",
             f"Parcels delivered: {', '.join(delivered) or 'none'}."]
    if buyer:
        lines.append(f"Buyer {buyer.get('buyer_id')}: credit score {buyer.get('credit_score')}.")
    return " ".join(lines)


def _cut(text: str) -> str:
    return text if len(text) <= TEXT else text[: TEXT - 1] + "…"
