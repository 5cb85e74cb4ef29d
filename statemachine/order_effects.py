"""What the order steps do (statemachine/order.py names which step does which): effects change
the aggregate only and return the history payload; `ship` spawns the parcels; the timers say
when each waiting state falls due. The writer (integrations/db/writer.py) applies them in the
step's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from statemachine.order_aggregate import Order
from statemachine.policies import Timeouts
from statemachine.shipment import Shipment, ShipmentState

# --- effects: change the aggregate only; the return value is the history payload ------------

def record_payment(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Captured money is paid; an authorisation kept for capture at shipping (`capture_by`)
    is recorded as such — the order may be fulfilled, nothing is counted as paid yet."""
    order.payment_ref, order.hold_expires_at = ctx["payment_ref"], None
    capture_by = ctx.get("capture_by")
    if capture_by is None:
        order.paid = ctx["amount"]
        return {"amount": order.paid, "payment_ref": order.payment_ref}
    order.attrs["authorisation"] = {"amount": ctx["amount"], "payment_ref": ctx["payment_ref"],
                                    "capture_by": capture_by.isoformat()}
    return {"authorised": ctx["amount"], "payment_ref": order.payment_ref,
            "capture_by": capture_by.isoformat()}


def record_capture(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    held = order.attrs.pop("authorisation")
    order.paid = held["amount"]
    return {"amount": order.paid, "payment_ref": held["payment_ref"]}


def record_pending_payment(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """The stock stays held while the payment settles, until `pay_by` (then it expires)."""
    order.payment_ref, order.hold_expires_at = ctx["payment_ref"], ctx["pay_by"]
    return {"amount": ctx["amount"], "payment_ref": order.payment_ref,
            "method": ctx.get("method"), "pay_by": order.hold_expires_at.isoformat()}


def restart_hold(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """The payment failed: the buyer may pay another way while a fresh hold lasts."""
    failed, order.payment_ref = order.payment_ref, None
    order.hold_expires_at = ctx["hold_until"]
    return {"payment_ref": failed, "hold_until": order.hold_expires_at.isoformat(),
            "reason": ctx.get("reason")}


def note_started_payment(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """A payment started while a decision is pending: the order remembers it, so approval
    waits for it (payment_pending) rather than starting a hold that lapses before it settles."""
    order.payment_ref = ctx["payment_ref"]
    return {"amount": ctx["amount"], "payment_ref": order.payment_ref,
            **({"method": ctx["method"]} if ctx.get("method") else {})}


def forget_payment(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """The payment started while a decision was pending failed: approval will not wait for it."""
    failed, order.payment_ref = order.payment_ref, None
    return {"payment_ref": failed, "reason": ctx.get("reason")}


def wait_for_payment(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Approved with a payment on its way: the stock stays held until `pay_by`."""
    order.hold_expires_at = ctx["pay_by"]
    return {"payment_ref": order.payment_ref, "pay_by": order.hold_expires_at.isoformat(),
            **({"reason": ctx["reason"]} if ctx.get("reason") else {})}


def start_hold(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    order.hold_expires_at = ctx["hold_until"]
    return {"hold_until": order.hold_expires_at.isoformat(), "reason": ctx.get("reason")}


def extend_hold(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    order.hold_expires_at = ctx["until"]
    return {"until": order.hold_expires_at.isoformat()}


def refund_everything_paid(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Money taken goes back (a refund), less refunds already on their way to the buyer
    (`refunds_in_flight`) and open disputes (`disputed`: the bank takes that back if the
    dispute is lost): each settles into the order, so the order ends refunded in full and the
    buyer is never paid back twice (a dispute won leaves its amount owed: refunds_owed lists
    it); an authorisation never captured is let go (the money sweep voids it)."""
    kept, spoken_for = _spoken_for(order, ctx)
    owed = order.paid - order.refunded - spoken_for
    order.refunded, order.hold_expires_at = order.paid - spoken_for, None
    held = order.attrs.pop("authorisation", None)
    payload = {"refund": owed, "reason": ctx.get("reason")} | {k: v for k, v in kept.items() if v}
    return payload | ({"released_authorisation": held["amount"]} if held else {})


def _spoken_for(order: Order, ctx: Mapping[str, Any]) -> tuple[dict[str, int], int]:
    """Refunds in flight and open disputes (those given), and what of the money left they
    take: each settles into the order on its own."""
    kept = {k: max(int(ctx.get(k, 0)), 0) for k in ("refunds_in_flight", "disputed")}
    return kept, min(sum(kept.values()), order.paid - order.refunded)


def cancel_order(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Cancelling (or rejecting a paid order) gives back everything paid, unless
    `refund_later`: the provider that took the money keeps it for now (Shopify's "refund
    later", or money Shopify took: given back in its admin), and each refund it makes
    afterwards is a `refund` of the ended order. `refund_later` is what is left beyond the
    refunds in flight and open disputes (a case's refund owed in Shopify's admin is owed on
    its own, as refunds_owed lists it): a consumer adding them counts nothing twice. A
    chargeback that stops every refund of the payment (`charged_back`: why) leaves it for later
    too: the provider would refuse the refund."""
    if not ctx.get("refund_later"):
        return refund_everything_paid(order, ctx)
    order.hold_expires_at = None
    kept, spoken_for = _spoken_for(order, ctx)
    # `charged_back`: why it is left for later when a chargeback stops refunds of the payment
    why = {"charged_back": ctx["charged_back"]} if ctx.get("charged_back") else {}
    return {"refund": 0, "refund_later": order.paid - order.refunded - spoken_for,
            "reason": ctx.get("reason")} | {k: v for k, v in kept.items() if v} | why


def record_refund(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    order.refunded += ctx["amount"]
    return {"amount": ctx["amount"], "case": ctx.get("case"), "reason": ctx.get("reason")}


def record_check(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    order.attrs["double_check"] = {"by": ctx["actor"], "at": ctx["at"].isoformat(),
                                   "notes": ctx.get("notes")}
    return {"checked_by": ctx["actor"], "notes": ctx.get("notes")}


def record_packing(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Keep outbound evidence (photo urls, scan ids) with the order; name both people."""
    evidence = list(ctx.get("evidence") or ())
    if evidence:
        order.attrs["outbound_evidence"] = evidence
    check = order.attrs.get("double_check")
    payload = {"packed_by": ctx["actor"], "evidence": evidence, "reason": ctx.get("reason")}
    if check:
        payload |= {"checked_by": check["by"], "double_check": list(
            ctx.get("double_check_needed") or ())}
    return {k: v for k, v in payload.items() if v not in (None, [])}


def refund_if_paid(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """A rejected order gives back what the buyer paid while it waited for the decision (as a
    cancel does: now, or left with the provider that took it, `refund_later`)."""
    if order.paid:
        return cancel_order(order, ctx)
    return note_reason(order, ctx)


def end_hold(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """The hold lapsed unpaid: its stock goes back (see the step's stock intent)."""
    order.hold_expires_at = None
    return note_reason(order, ctx)


def correct_address(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """The order ships to the corrected address from now on: the address as sent and its
    parsed form are replaced, and the correction is kept (who, when, why, what the address
    contradicted before) for the reviewer. The history gets the two addresses as the caller
    shows them (`shown_before`, `shown_after`: masked, the street hidden), never in full."""
    before = order.attrs.get("address") or {}
    order.attrs["shipping_address"] = dict(ctx["shipping_address"])
    order.attrs["address"] = dict(ctx["address"])
    if ctx.get("buyer_phone"):  # the buyer's only number was the one corrected (the service)
        order.attrs["phone"] = ctx["buyer_phone"]
    if ctx.get("recipient_phone"):  # the corrected number (E.164), for the risk counters
        order.attrs["recipient_phone"] = ctx["recipient_phone"]
    # what placement's address rules said of the new address, for the reviewer of an order
    # under review (the service refuses it on an order past its review)
    risk = [dict(r) for r in ctx.get("risk") or ()]
    order.attrs["address_corrected"] = {
        "at": ctx["at"].isoformat(), "by": ctx["actor"], "reason": ctx.get("reason"),
        "conflicts_before": list(before.get("conflicts", ()))} | ({"risk": risk} if risk else {})
    payload = {"from": ctx["shown_before"], "to": ctx["shown_after"],
               "conflicts_before": list(before.get("conflicts", ()))}
    return payload | ({"reason": ctx["reason"]} if ctx.get("reason") else {}) \
        | ({"risk": risk} if risk else {}) | _promise_follows(order, ctx)


def _promise_follows(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """The days placement added to the promise for a far warehouse, measured again from the
    corrected address, and the stock plan when the correction moved it (`allocation`, as at
    placement): the history says when either changes."""
    if "promise_extra_days" not in ctx:
        return {}
    days, before = ctx["promise_extra_days"] or 0, order.attrs.get("promise_extra_days") or 0
    if days:
        order.attrs["promise_extra_days"] = days
    else:
        order.attrs.pop("promise_extra_days", None)
    moved = {"allocation": [list(a) for a in ctx["allocation"]]} if ctx.get("allocation") \
        else {}
    if days == before and not moved:
        return {}
    return moved | {"promise_extra_days": days,
                    "allocation_reasons": list(ctx["allocation_reasons"])}


def note_reason(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("reason", "parcels", "shortage", "allocation", "wave")
    return {key: ctx[key] for key in keys if ctx.get(key) is not None}


def record_shipping(order: Order, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """The parcels' public ids are filled in by the writer once they have rows. Shipped with
    its money all refunded: the person's why is kept (`ship_refunded`)."""
    said = {k: ctx[k] for k in ("reason", "ship_refunded") if ctx.get(k)}
    return {"parcels": [], **said}


# --- side aggregates -------------------------------------------------------------------------

def parcels_for_labels(order: Order, ctx: Mapping[str, Any]) -> list[Shipment]:
    """`ship` creates one parcel per label (carrier, tracking number, source warehouse)."""
    return [Shipment(id=0, order_id=order.id, state=ShipmentState.LABEL_CREATED, version=1,
                     warehouse=label["warehouse"], carrier=label["carrier"],
                     tracking_no=label["tracking_no"], created_at=ctx["at"],
                     promised_by=ctx.get("promised_by"),
                     step_payload={"parcel": n, **label})
            for n, label in enumerate(ctx.get("parcels") or (), start=1)]


# --- timers: when each waiting state falls due ------------------------------------------------

def hold_end(order: Order, now: datetime, timeouts: Timeouts) -> datetime | None:
    return order.hold_expires_at


def review_due(order: Order, now: datetime, timeouts: Timeouts) -> datetime:
    return now + timeouts.review_sla


def verification_due(order: Order, now: datetime, timeouts: Timeouts) -> datetime:
    return now + timeouts.verification


def auto_complete_due(order: Order, now: datetime, timeouts: Timeouts) -> datetime:
    return now + timeouts.auto_complete


def capture_due(order: Order, now: datetime, timeouts: Timeouts) -> datetime | None:
    held = order.authorisation
    return datetime.fromisoformat(held["capture_by"]) if held else None
