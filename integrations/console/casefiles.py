"""What staff read in the console: the description above each form, and the per-order case
file. Money in major units, times in the shop's time zone, personal data masked."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from integrations.console.casework import (
    OpenCase,
    money,
    placement_device_ip,
    plain_reason,
    related_orders,
)
from integrations.evidence import dispute_answer
from integrations.evidence.pack import build_pack
from integrations.notifications.masking import KEEP, known_pii, mask_text
from integrations.service.context import Context
from integrations.service.reviews import dossier
from integrations.service.views import OrderView
from statemachine import ids
from statemachine.dispute import Dispute, DisputeKind


def when(value: datetime | str | None, zone: ZoneInfo) -> str:
    """`2026-11-12 17:00 CST` in the shop's zone ('–' when unknown)."""
    if value is None:
        return "–"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def duration(left: timedelta | None) -> str:
    """`23 h 12 min left`, or `overdue by 2 h 5 min`."""
    if left is None:
        return "no deadline"
    minutes = int(abs(left.total_seconds()) // 60)
    text = f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
    return f"{text} left" if left.total_seconds() >= 0 else f"overdue by {text}"


def table(head: list[str], rows: list[list[Any]], empty: str = "none") -> str:
    if not rows:
        return f"_{empty}_\n"
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c).replace("|", "/") for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def deadline_line(case: OpenCase, now: datetime, zone: ZoneInfo) -> str:
    due = f"**Decide by {when(case.due_at, zone)}** ({duration(case.sla_left(now))})" \
        if case.due_at else "**No deadline**"
    return f"{due} · waiting since {when(case.opened_at, zone)}"


def review_description(ctx: Context, case: OpenCase, now: datetime) -> str:
    """Everything a risk reviewer needs above the form."""
    zone, d = ctx.settings.zone(), dossier(ctx, ids.ORDER.parse(case.entity))
    o = d.order
    region = " ".join(dict.fromkeys(str(o.shipping_address[k]) for k in KEEP
                                    if o.shipping_address.get(k)))
    history = ", ".join(f"{n} {s}" for s, n in sorted(d.past_by_state.items())) or "first order"
    return (f"# Risk review · {o.id} · {money(o.total, o.currency)}\n\n"
            f"{deadline_line(case, now, zone)}\n\n"
            f"Buyer **{o.buyer_id}** — since {when(d.buyer_since, zone)}, credit "
            f"{d.credit_score}, earlier orders: {history}. Ships to {region or '?'}"
            f"{_placed_from(ctx, o.id)}.\n\n"
            f"## Why it was held\n\n" + "".join(f"- {r}\n" for r in case.reasons) +
            _corrected(o, zone) +
            f"\n## Lines\n\n{_lines(o)}\n## Related orders (same device, IP or address)\n\n"
            f"{_related(ctx, o.id, zone)}\n## Buyer's last orders\n\n"
            + table(["order", "state", "total", "placed"],
                    [[p.id, p.state, money(p.total, p.currency), when(p.created_at, zone)]
                     for p in d.past_orders[:10]], "no earlier orders")
            + f"\n{_choices(o)} From a terminal: `orderpilot review approve {o.id} --by "
              f"NAME`.\n")


def _corrected(o: OrderView, zone: ZoneInfo) -> str:
    """The address corrected while the order waited: the reasons above are about the address
    as placed, and the reviewer still decides (correcting approves nothing)."""
    done = o.address_corrected
    if not done:
        return ""
    before = "; ".join(done.get("conflicts_before") or ()) or "nothing to flag"
    # the reason is free text: the street or recipient typed into it is hidden too
    known = known_pii({"shipping_address": o.shipping_address})
    why = f" ({mask_text(done['reason'], known)})" if done.get("reason") else ""
    # what placement's address rules say of the corrected address (correction_risk.py)
    rules = "; ".join(f"{r['text']} ({r['rule']})" for r in done.get("risk") or ())
    said = f" Placement's address rules on the corrected address: {rules}." if rules else ""
    return (f"\n## Address corrected\n\n{when(done['at'], zone)} by {done['by']}{why}: the "
            f"order now ships to the address above. As placed, it said: {before}.{said} "
            f"Approving is still yours to decide.\n")


def _choices(o: Any) -> str:
    """What each decision does to this order: one the buyer paid while it waited is sold or
    refunded, not held or released."""
    if o.paid:
        paid = money(o.paid, o.currency)
        return (f"**The buyer has paid {paid}** ({o.payment_ref}). **approve**: the order is "
                f"paid and goes to the warehouse. **reject**: the stock is released and the "
                f"{paid} refunded.")
    return "**approve**: the buyer can pay, the stock stays held. **reject**: the stock is " \
           "released."


def refund_description(ctx: Context, case: OpenCase, now: datetime) -> str:
    """The request, why a person decides it, and the order it is about."""
    zone, pack = ctx.settings.zone(), build_pack(ctx, ids.ORDER.parse(case.order_id))
    [request] = [c for c in pack["cases"] if c["id"] == case.entity]
    order, buyer = pack["order"], pack["buyer"]
    lines = table(["line", "qty", "amount"], [[ln["line_no"], ln["quantity"],
                  money(ln["amount"], order["currency"])] for ln in request["lines"]])
    why = [s["payload"].get("reason") for s in request["steps"] if s["trigger"] == "review"]
    return (f"# Refund review · {case.entity} on {case.order_id} · "
            f"{money(case.amount, case.currency)}\n\n{deadline_line(case, now, zone)}\n\n"
            f"**{request['kind'].replace('_', ' ')}**: “{request['reason']}”\n\n"
            f"Why a person decides: {why[-1] if why else 'held by the refund rules'}\n\n"
            f"{lines}\nOrder total {money(order['total'], order['currency'])}, paid "
            f"{money(order['paid'], order['currency'])}, refunded before "
            f"{money(order['refunded'], order['currency'])}. Buyer **{buyer['buyer_id']}**: "
            f"{buyer['orders']} orders, {buyer['orders_refunded']} refunded, credit "
            f"{buyer['credit_score']}.\n\nFrom a terminal: "
            f"`orderpilot case approve {case.entity} --by NAME`.\n")


def bounced_return_description(ctx: Context, case: OpenCase, now: datetime) -> str:
    """The return case, the parcel that came back to the buyer and why, and the two answers."""
    zone, pack = ctx.settings.zone(), build_pack(ctx, ids.ORDER.parse(case.order_id))
    [request] = [c for c in pack["cases"] if c["id"] == case.entity]
    order = pack["order"]
    bounces = [s["payload"] for s in request["steps"] if s["trigger"] == "bounce_return"]
    why = bounces[-1].get("reason") if bounces else None
    lines = table(["line", "qty", "amount"], [[ln["line_no"], ln["quantity"],
                  money(ln["amount"], order["currency"])] for ln in request["lines"]])
    return (f"# Return bounced · {case.entity} on {case.order_id} · "
            f"{money(case.amount, case.currency)}\n\n{deadline_line(case, now, zone)}\n\n"
            f"**{request['kind'].replace('_', ' ')}**: “{request['reason']}”\n\n"
            f"The carrier sent the return parcel back to the buyer: "
            f"{mask_text(why or 'no reason given')}. The goods are with the buyer again; "
            f"nothing was refunded.\n\n{lines}\n"
            f"**new_label**: the buyer gets a new return label and sends the goods again. "
            f"**close**: the case ends, the buyer keeps the goods. From a terminal: "
            f"`orderpilot case new-label {case.entity} --by NAME --note …` or "
            f"`orderpilot case close {case.entity} --by NAME --note …`.\n")


def stall_description(ctx: Context, case: OpenCase, now: datetime) -> str:
    """The silent parcel, its last scans, and what was done about it."""
    zone, pack = ctx.settings.zone(), build_pack(ctx, ids.ORDER.parse(case.order_id))
    [parcel] = [s for s in pack["shipments"] if s["id"] == case.entity]
    scans = table(["at", "step", "details"], [[when(s["at"], zone), s["trigger"],
                  s["payload"].get("location") or s["payload"].get("reason") or ""]
                  for s in parcel["scans"][-8:]])
    return (f"# Stalled parcel · {case.entity} of {case.order_id}\n\n"
            f"**{parcel['carrier']} {parcel['tracking_no']}**: {parcel['stall_reason']} — "
            f"silent since {when(case.opened_at, zone)}; promised by "
            f"{when(parcel['promised_by'], zone)}.\n\nThe carrier was chased and the buyer "
            f"told. This run closes by itself at the next scan.\n\n{scans}\n"
            f"**chase_again**: ask the carrier once more. **declare_lost**: the buyer is "
            f"compensated and a claim is filed. From a terminal: "
            f"`orderpilot stall chase {case.entity} --by NAME --note …`.\n")


WHAT_THE_BANK_DID = {DisputeKind.INQUIRY: "The buyer's bank asks about the payment "
                                           "before charging it back (an inquiry)",
                     DisputeKind.CHARGEBACK: "The buyer's bank reversed the payment "
                                             "(a chargeback)"}
WHILE_OPEN = {DisputeKind.INQUIRY: "No money is taken yet: an answer before the due date is "
                                   "what prevents the chargeback.",
              DisputeKind.CHARGEBACK: "The provider holds the money until the bank decides."}


def dispute_description(ctx: Context, case: OpenCase, now: datetime) -> str:
    """The chargeback and the evidence as it will be sent (personal data masked here only)."""
    zone, dispute = ctx.settings.zone(), dispute_answer.get(ctx, ids.DISPUTE.parse(case.entity))
    # the fields are named as Stripe's Dispute.evidence names them, whichever provider it is
    fields = table([f"{dispute.provider} evidence field (Stripe's name)"
                    if dispute.provider != "stripe" else "Stripe evidence field", "what is sent"], [
        [name, value.replace("\n", " · ")]
        for name, value in sorted(dispute_answer.shown(ctx, dispute).items())],
        "no evidence prepared yet")
    return (f"# Dispute ({dispute.kind}) · {case.entity} on {case.order_id} · "
            f"{money(case.amount, case.currency)}\n\n{deadline_line(case, now, zone)}\n\n"
            f"{WHAT_THE_BANK_DID[dispute.kind]} ({dispute.provider} "
            f"{dispute.provider_ref}): “{dispute.reason or 'no reason given'}”. "
            f"{WHILE_OPEN[dispute.kind]}\n\n## The evidence\n\n{fields}\n"
            f"Addresses and contact details go to the provider in full; they are masked here."
            f"\n\n**submit**: send this evidence once "
            f"(key `{dispute_answer.evidence_key(ctx, dispute)}`); "
            f"`extra_text` is added to the uncategorized text. **accept**: concede, the order "
            f"books the chargeback. If nobody answers by the due date, nothing is sent and this "
            f"run closes: the bank decides on what it has. From a terminal: "
            f"`orderpilot dispute submit {case.entity} --by NAME`.\n"
            + _answered_elsewhere(dispute))


def _answered_elsewhere(dispute: Dispute) -> str:
    """A provider whose disputes are answered in its own admin (Shopify Payments): said under
    the buttons, so nobody waits for a submit that is never sent from here."""
    elsewhere = dispute_answer.ANSWERED_IN_ADMIN.get(dispute.provider)
    return "" if elsewhere is None else \
        f"\n**Nothing is sent from here**: {elsewhere}. Copy the evidence above there.\n"


def timeline(ctx: Context, order_id: str) -> str:
    """The order's whole story: state, risk, every step of order, parcels and cases, notes."""
    zone, pack = ctx.settings.zone(), build_pack(ctx, ids.ORDER.parse(order_id))
    o, risk = pack["order"], pack["risk"] or {}
    steps = table(["at", "what", "step", "from → to", "by"], [
        [when(h["at"], zone), h["entity_id"], h["trigger"],
         f"{h['from_state'] or '·'} → {h['to_state']}", h["actor"]] for h in pack["timeline"]])
    notes = table(["at", "by", "note"], [[when(n["at"], zone), n["author"], n["text"][:120]]
                                         for n in pack["notes"]], "no notes")
    parcels = table(["parcel", "carrier", "tracking", "state"], [
        [s["id"], s["carrier"], s["tracking_no"], s["state"]] for s in pack["shipments"]],
        "no parcels")
    cases = table(["case", "kind", "state", "refunded"], [
        [c["id"], c["kind"], c["state"], money(c["refunded"], o["currency"])]
        for c in pack["cases"]], "no after-sales cases")
    reasons = "".join(f"- {plain_reason(r, o['currency'])}\n" for r in risk.get("reasons", []))
    return (f"# {o['id']} · {o['state']} · {money(o['total'], o['currency'])}\n\n"
            f"Buyer **{o['buyer_id']}**, placed {when(o['created_at'], zone)}; paid "
            f"{money(o['paid'], o['currency'])}, refunded {money(o['refunded'], o['currency'])}"
            f". Times in {zone.key}.\n\n## Risk: {risk.get('action', 'none')}\n\n"
            f"{reasons or '_no reasons recorded_'}\n\n## Timeline\n\n{steps}\n"
            f"## Parcels\n\n{parcels}\n## After-sales\n\n{cases}\n## Notes\n\n{notes}")


def _lines(o: OrderView) -> str:
    return table(["sku", "qty", "unit price"], [[ln.sku, ln.quantity,
                 money(ln.unit_price, o.currency)] for ln in o.lines])


def _placed_from(ctx: Context, order_id: str) -> str:
    """`; placed from device d-7f3a, IP 183.156.*.*` (the IP masked: descriptions leave the
    store), or nothing when the risk engine kept no placement facts."""
    device, ip = placement_device_ip(ctx, order_id)
    parts = [f"device {device}" if device else "", f"IP {mask_text(ip)}" if ip else ""]
    return f"; placed from {', '.join(p for p in parts if p)}" if any(parts) else ""


def _related(ctx: Context, order_id: str, zone: ZoneInfo) -> str:
    return table(["order", "buyer", "state", "total", "shares", "placed"], [
        [r["order_id"], r["buyer_id"], r["state"], money(r["total"], r["currency"]),
         ", ".join(r["shares"]), when(r["placed_at"], zone)]
        for r in related_orders(ctx, order_id)], "no other order shares its device, IP or "
                                                 "address")
