"""The evidence pack as a readable Markdown report (same data as the JSON)."""

from __future__ import annotations

import json
from typing import Any

from integrations.evidence.fulfilment import render_fulfilment


def render_markdown(pack: dict[str, Any]) -> str:
    order = pack["order"]
    parts = [f"# Evidence pack: order {order['id']}",
             f"Generated {pack['generated_at']}; personal data {pack['pii']}.",
             _summary(order, pack["buyer"]), _risk(pack["risk"]),
             _table("Timeline", ["at", "entity", "trigger", "from", "to", "actor", "details"],
                    [[h["at"], h["entity_id"], h["trigger"], h["from_state"] or "", h["to_state"],
                      h["actor"], _short(h["payload"])] for h in pack["timeline"]]),
             _table("Payments and refunds", ["at", "kind", "amount", "ref", "case", "reason"],
                    [[p["at"], p["kind"], f"{p['amount']} {p['currency']}", p["provider_ref"],
                      p["case_id"] or "", p["reason"] or ""] for p in pack["payments"]])]
    parts += [_parcel(s) for s in pack["shipments"]]
    parts += [_case(c) for c in pack["cases"]]
    parts.append(render_fulfilment(pack.get("fulfilment")))
    parts.append(_table("Notes and messages", ["at", "kind", "author", "text", "attachments"],
                        [[n["at"], n["kind"], n["author"], n["text"],
                          " ".join(n["attachments"])] for n in pack["notes"]]))
    parts.append(_table("Inbound events", ["received", "event", "kind", "applied", "note"],
                        [[e["received_at"], e["event"], e["kind"], e["applied"], e["note"] or ""]
                         for e in pack["inbound_events"]]))
    return "\n\n".join(parts) + "\n"


def _summary(order: dict[str, Any], buyer: dict[str, Any]) -> str:
    address = ", ".join(str(v) for v in order["shipping_address"].values() if v)
    return "\n".join([
        "## Order", f"- state: **{order['state']}**, payment {order['payment_status']}",
        f"- total {order['total']} {order['currency']}, paid {order['paid']}, "
        f"refunded {order['refunded']}",
        f"- buyer {order['buyer_id']}, device {order['device_id']}, ip {order['ip']}, "
        f"phone {order['phone']}", f"- ship to: {address}", "", "## Buyer history",
        f"- orders {buyer['orders']}: completed {buyer['completed']}, cancelled "
        f"{buyer['cancelled']}, rejected {buyer['rejected']}, expired {buyer['expired']}",
        f"- refunded on {buyer['orders_refunded']} order(s): {buyer['refunded_total']} of "
        f"{buyer['paid_total']} paid", f"- credit score {buyer['credit_score']}",
        *[f"  - {c['at']} {c['kind']} ({c['order_id'] or 'no order'}): {c['before']} → "
          f"{c['after']}" for c in buyer.get("credit_changes", [])]])


def _risk(risk: dict[str, Any] | None) -> str:
    if not risk:
        return "## Risk decision\n\nnone recorded"
    lines = [f"## Risk decision: {risk['action']} (score {risk['score']})"]
    lines += [f"- `{r['rule']}`: {r['text']} {_short(r.get('values') or {})}"
              for r in risk.get("reasons", [])]
    return "\n".join(lines)


def _parcel(s: dict[str, Any]) -> str:
    title = (f"Parcel {s['id']} ({s['carrier']} {s['tracking_no']}, from {s['warehouse']}): "
             f"{s['state']}")
    rows = [[h["at"], h["trigger"], h["to_state"], h["actor"], _short(h["payload"])]
            for h in s["scans"]]
    rows += [[e["received_at"], e["kind"], "(not applied)", "carrier", e["note"] or ""]
             for e in s["carrier_events"] if not e["applied"]]
    return _table(title, ["at", "scan", "state", "by", "details"], sorted(rows))


def _case(c: dict[str, Any]) -> str:
    title = (f"After-sales case {c['id']}: {c['kind']}, {c['state']}, inspection "
             f"{c['inspection'] or 'none'}, refunded {c['refunded']} of {c['requested_amount']}")
    return _table(title, ["at", "trigger", "to", "actor", "details"],
                  [[h["at"], h["trigger"], h["to_state"], h["actor"], _short(h["payload"])]
                   for h in c["steps"]]) + f"\n\nReason given: {c['reason']}"


def _table(title: str, head: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return f"## {title}\n\nnone"
    lines = [f"## {title}", "", "| " + " | ".join(head) + " |",
             "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    return str(value if value is not None else "").replace("|", "\\|").replace("\n", " ")


def _short(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)[:120] if data else ""
