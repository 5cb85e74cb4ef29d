"""Money rules: what may still be refunded, and what a lost dispute books.

Refunded ≤ captured, always. What is *settled* lives on the order (paid, refunded, per-line
refunded quantities); what is *in flight* — refunds recorded but not yet confirmed by the
provider, and open chargebacks (the provider already holds that money; an open inquiry took
none) — is reserved. Every new
refund must fit in what is left after both, so however the in-flight ones end, the order's
refunded total never passes what was paid. While a chargeback is open nothing may be refunded
at all, not even the part it does not dispute: the provider refuses any refund of a charge
under a chargeback (Stripe: `charge_disputed`), so one we recorded would only fail there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from statemachine.order_aggregate import Order
from statemachine.ports import RefundLine


class OperationKind(StrEnum):
    CHECKOUT = "checkout"  # a payment opened for the buyer to authorise
    CAPTURE = "capture"
    REFUND = "refund"
    VOID = "void"  # an uncaptured payment released (Stripe cancel, Alipay trade.close)
    PAYOUT = "payout"  # compensation paid outside the provider (bank transfer, cash): recorded


# Providers whose refunds orderpilot records but never makes: the merchant gives the money back
# in the provider's own admin, and the provider's webhooks book it (Shopify's refunds/create).
# Their operations wait for that webhook, whatever the money sweep finds pending.
REFUNDED_BY_MERCHANT = frozenset({"shopify"})


def refunded_by_merchant(payment_ref: str | None) -> bool:
    """The order's money was taken by such a provider: its payment ref names it (`shopify:5`)."""
    return merchant_refunder(payment_ref) is not None


def merchant_refunder(payment_ref: str | None) -> str | None:
    """The provider in REFUNDED_BY_MERCHANT that took this payment (`shopify` for
    `shopify:5`), whose admin its refunds are made in; None for any other payment."""
    name = str(payment_ref).partition(":")[0] if payment_ref else ""
    return name if name in REFUNDED_BY_MERCHANT else None


def refund_in_admin(provider: str) -> str:
    """What a refund of such a provider's money waits for, in words."""
    return f"to refund in {provider.title()}'s admin"


class OperationStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class PaymentOperation:
    """One provider call, recorded before it is made (`key` is its idempotency key)."""

    id: int
    order_id: int
    kind: OperationKind
    status: OperationStatus
    amount: int
    currency: str
    key: str
    provider: str
    payment_ref: str | None
    actor: str
    created_at: datetime
    lines: tuple[RefundLine, ...] = ()
    purpose: Mapping[str, Any] = field(default_factory=dict)
    reason: str | None = None
    provider_ref: str | None = None
    attempts: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Reserved:
    """Money of an order that is spoken for but not settled."""

    refunds: int = 0  # refunds in flight
    lines: Mapping[int, int] = field(default_factory=dict)  # line_no → quantity in flight
    disputed: int = 0  # open chargebacks (not inquiries: no money taken)
    chargebacks: tuple[str, ...] = ()  # the open chargebacks' ids (`d-3`): they stop refunds


def refund_headroom(order: Order, reserved: Reserved) -> int:
    """What may still be refunded now: nothing while a chargeback is open (the provider
    refuses any refund of the charge), else what is left after settled refunds, refunds in
    flight and the chargebacks."""
    if reserved.chargebacks:
        return 0
    return max(0, order.paid - order.refunded - reserved.refunds - reserved.disputed)


def chargeback_refusal(order: Order, reserved: Reserved) -> str | None:
    """Why no refund of the order's payment may be made now (None: none stops it): an open
    chargeback — the provider refuses every refund of a charged-back charge, the undisputed
    part too, until the dispute closes (won: the whole payment refundable again; lost: what is
    left after the chargeback). An inquiry took no money and stops nothing."""
    if not reserved.chargebacks:
        return None
    return (f"payment {order.payment_ref or order.public_id} has an open chargeback "
            f"({', '.join(reserved.chargebacks)}, disputed {reserved.disputed}): the provider "
            "refuses any refund of a charged-back payment; refund once the dispute closes")


def refund_refusal(order: Order, amount: int, lines: Sequence[RefundLine],
                   reserved: Reserved) -> str | None:
    """None if a refund of `amount` (by `lines`, if given) may be recorded, else why not.

    `lines` are the units the refund settles (reserved while it is in flight); `amount` is
    their value, or less: a partial refund of them, paid by amount."""
    if amount <= 0:
        return f"refund amount must be positive (got {amount})"
    if (charged_back := chargeback_refusal(order, reserved)) is not None:
        return charged_back
    headroom = refund_headroom(order, reserved)
    if amount > headroom:
        return (f"refund of {amount} exceeds what is left ({headroom}: paid {order.paid}, "
                f"refunded {order.refunded}, in flight {reserved.refunds}, disputed "
                f"{reserved.disputed})")
    if lines and sum(line.amount for line in lines) < amount:
        return f"refund lines add up to {sum(ln.amount for ln in lines)}, less than {amount}"
    return lines_refusal(order, lines, reserved)


def lines_refusal(order: Order, lines: Sequence[RefundLine], reserved: Reserved) -> str | None:
    by_no, seen = {ln.line_no: ln for ln in order.lines}, set()
    for line in lines:
        if line.line_no in seen:
            return f"line {line.line_no} is named twice"
        seen.add(line.line_no)
        own = by_no.get(line.line_no)
        if own is None:
            return f"order {order.public_id} has no line {line.line_no}"
        left = own.quantity - own.refunded_quantity - reserved.lines.get(line.line_no, 0)
        if line.quantity > left:
            return (f"line {line.line_no}: {line.quantity} to refund but only {left} left "
                    "(refunded or in flight)")
    return None


def mark_refunded(order: Order, units: Mapping[int, int]) -> dict[int, int]:
    """Mark `units` (line_no → quantity) of the order's lines refunded: settled, so no
    after-sales case can be opened on them again (a claim's refund of a lost or returned
    parcel's goods, a case refunded). A line never counts more refunded units than it has;
    returns what was marked, so a caller that must settle every unit can see what was not."""
    by_no, marked = {ln.line_no: ln for ln in order.lines}, {}
    for line_no, quantity in units.items():
        line = by_no[line_no]
        take = min(quantity, line.quantity - line.refunded_quantity)
        if take > 0:
            line.refunded_quantity += take
            marked[line_no] = take
    return marked


def chargeback_booking(order: Order, disputed: int, refunds_in_flight: int) -> tuple[int, int]:
    """A lost dispute: (booked as refunded, lost beyond what was left to refund).

    The provider has already taken `disputed`; the order can only show what was still
    refundable (refunds in flight keep their share), the rest is a loss for finance to see.
    """
    left = max(0, order.paid - order.refunded - refunds_in_flight)
    booked = min(disputed, left)
    return booked, disputed - booked
