"""The order steps' guards: each returns None to allow the step, or the reason for refusing
it (the lifecycle table in statemachine/order.py names which step checks which)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from statemachine.order_aggregate import Order


def payment_covers_total(order: Order, ctx: Mapping[str, Any]) -> str | None:
    amount, ref = ctx.get("amount"), ctx.get("payment_ref")
    if not ref:
        return "payment_ref is required"
    if amount != order.total:
        return f"amount must equal the order total {order.total} (got {amount})"
    return None


def nothing_paid_yet(order: Order, ctx: Mapping[str, Any]) -> str | None:
    """An order waiting for a decision takes one payment (another is late money), and only
    money taken: an authorisation kept for shipping could lapse while a person decides."""
    if order.paid:
        return f"already paid by {order.payment_ref} while the decision is pending"
    if ctx.get("capture_by") is not None:
        return "an order waiting for a decision takes captured money, not an authorisation"
    return None


def money_taken(order: Order, ctx: Mapping[str, Any]) -> str | None:
    """Approving an order the buyer paid while it waited makes it paid; else it waits."""
    return None if order.paid else "nothing paid yet"


def payment_started(order: Order, ctx: Mapping[str, Any]) -> str | None:
    """Approving an order whose buyer started a payment while it waited (a bank transfer
    processing) waits for that payment, as if it had started after the approval."""
    return None if order.payment_ref and not order.paid else "no payment started"


def no_other_payment_started(order: Order, ctx: Mapping[str, Any]) -> str | None:
    """An order waiting for a decision waits for one started payment (the first)."""
    if order.payment_ref and order.payment_ref != ctx.get("payment_ref"):
        return f"payment {order.payment_ref} was started already"
    return None


def hold_has_lapsed(order: Order, ctx: Mapping[str, Any]) -> str | None:
    expires = order.hold_expires_at
    if expires is not None and ctx["at"] < expires:
        return f"the stock hold runs until {expires.isoformat()}"
    return None


def same_payment(order: Order, ctx: Mapping[str, Any]) -> str | None:
    """A failure notice must be about the payment the order is waiting for."""
    if ctx.get("payment_ref") != order.payment_ref:
        return (f"the order waits for payment {order.payment_ref}, "
                f"not {ctx.get('payment_ref')}")
    return None


def authorisation_uncaptured(order: Order, ctx: Mapping[str, Any]) -> str | None:
    held = order.authorisation
    if held is None:
        return "nothing to capture: the order holds no uncaptured authorisation"
    if ctx.get("amount") != held["amount"]:
        return (f"amount must equal the authorised {held['amount']} "
                f"(got {ctx.get('amount')})")
    return None


def hold_extension_is_positive(order: Order, ctx: Mapping[str, Any]) -> str | None:
    until = ctx.get("until")
    if until is None or (order.hold_expires_at and until <= order.hold_expires_at):
        return "until must be later than the current hold expiry"
    return None


def every_parcel_delivered(order: Order, ctx: Mapping[str, Any]) -> str | None:
    open_parcels = ctx.get("open_parcels", 1)
    return None if open_parcels == 0 else f"{open_parcels} parcel(s) not delivered yet"


def second_person_checked(order: Order, ctx: Mapping[str, Any]) -> str | None:
    """Orders the double-check policy names need a confirmation by someone other than the packer."""
    needed = ctx.get("double_check_needed") or ()
    if not needed:
        return None
    check = order.attrs.get("double_check")
    why = "; ".join(needed)
    if not check:
        return f"a double check by a second person is required ({why}): none recorded yet"
    if check["by"] == ctx.get("actor"):
        return (f"the double check was done by {check['by']}, who is also packing: "
                f"a second person must confirm ({why})")
    return None


def nothing_in_transit(order: Order, ctx: Mapping[str, Any]) -> str | None:
    inbound = ctx.get("inbound_transfers") or ()
    return None if not inbound else f"waiting for transfer {', '.join(inbound)}"


def something_to_ship(order: Order, ctx: Mapping[str, Any]) -> str | None:
    """`ship` creates a parcel per label: without one, the order would pass as shipped (and
    then delivered) with nothing on its way."""
    return None if ctx.get("parcels") else "nothing to ship: no parcel (no label given and " \
        "no stock consumed for this order)"


def payment_can_be_taken(order: Order, ctx: Mapping[str, Any]) -> str | None:
    """Capture at shipping: goods do not leave on an authorisation whose capture failed."""
    failed = ctx.get("capture_failed")
    if failed is None:
        return None
    ref = (order.authorisation or {}).get("payment_ref")
    return (f"the capture of {ref} failed ({failed}): capture it at the provider (its webhook "
            "books it) or cancel the order")


def checker_is_named(order: Order, ctx: Mapping[str, Any]) -> str | None:
    return None if ctx.get("actor") else "the checker must be named"


def refund_within_paid(order: Order, ctx: Mapping[str, Any]) -> str | None:
    amount = ctx.get("amount", 0)
    if amount <= 0:
        return f"refund amount must be positive (got {amount})"
    if order.refunded + amount > order.paid:
        return (f"refund of {amount} would exceed what was paid ({order.paid}, "
                f"already refunded {order.refunded})")
    return None


def nothing_authorised_to_refund_later(order: Order, ctx: Mapping[str, Any]) -> str | None:
    """`refund_later` keeps money taken; an authorisation is let go when the order is
    cancelled (there is nothing to refund later)."""
    if ctx.get("refund_later") and order.attrs.get("authorisation"):
        return "an authorisation kept for capture is released on cancel, not refunded later"
    return None


def money_kept_or_shipped_anyway(order: Order, ctx: Mapping[str, Any]) -> str | None:
    """Goods do not leave an order whose money was all given back (a refund in full at the
    provider's dashboard / Alipay's merchant portal while it was packed) unless a person says
    so (`ship_refunded`: why, e.g. a gift); the other way out is `cancel` (stock back)."""
    if order.paid <= 0 or order.refunded < order.paid or ctx.get("ship_refunded"):
        return None
    return (f"the buyer's money was all refunded ({order.refunded} of {order.paid}): a person "
            "decides — ship it anyway with ship_refunded (why, e.g. a gift) or cancel it "
            "(stock back)")


def money_all_given_back(order: Order, ctx: Mapping[str, Any]) -> str | None:
    """A packed order is cancelled only once its money was all given back (refunded in full
    at the provider): the person deciding puts its stock back instead of shipping it."""
    if order.paid > 0 and order.refunded >= order.paid:
        return None
    return ("a packed order ships; it is cancelled only once its money was all refunded "
            f"(refunded {order.refunded} of {order.paid})")
