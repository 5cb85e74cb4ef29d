"""Money rules: what may still be refunded, and what a lost dispute books.

Refunded ≤ captured, always. What is *settled* lives on the order (paid, refunded, per-line
refunded quantities); what is *in flight* — refunds recorded but not yet confirmed by the
provider, and open chargebacks (the provider already holds that money; an open inquiry took
none) — is reserved. Every new
refund must fit in what is left after both, so however the in-flight ones end, the order's
refunded total never passes what was paid. While a chargeback is open nothing may be refunded
at all, not even the part it does not dispute: the provider refuses any refund of a charge
under a chargeback (Stripe: `charge_disputed`), so one we recorded would only fail there.
Once the chargeback is lost or conceded it depends on the provider (REFUSES_AFTER_A_LOST_
CHARGEBACK): Stripe refuses every refund of the charge for good, Alipay only of the amount
charged back — the rest may be refunded.
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


# The dispute states in which a chargeback took the money for good (the order booked it).
CHARGED_BACK_FOR_GOOD = ("lost", "accepted")

# Providers that refuse every refund of a payment once a chargeback of it was lost or conceded,
# the part the bank did not take too — so no refund of ours is recorded then (what to do
# instead: pay the buyer outside the provider, an offline payout):
# - stripe: `charge_disputed` ("charge disputed": a charge with a chargeback is not refunded;
#   a Dispute's `is_charge_refundable` is true only while the charge may still be refunded —
#   an inquiry's), and our Stripe stand-in answers so;
# - simulated: refuses as Stripe does (integrations/payments/simulated.py);
# - shopify: Shopify Payments makes its charges on Stripe, and its admin cannot refund an
#   order with a chargeback.
# Alipay is not among them: its refund documentation refuses "the rejected amount" of a card
# payment charged back, not the rest — what the chargeback left may still be refunded.
REFUSES_AFTER_A_LOST_CHARGEBACK = frozenset({"stripe", "simulated", "shopify"})


@dataclass(frozen=True, slots=True)
class LostChargeback:
    """A chargeback the bank decided against the shop (`lost`) or the shop conceded."""

    dispute: str  # its id, `d-3`
    state: str  # lost | accepted
    provider: str  # whose: whether the rest of the payment may still be refunded is theirs


@dataclass(frozen=True, slots=True)
class Reserved:
    """Money of an order that is spoken for but not settled."""

    refunds: int = 0  # refunds in flight
    lines: Mapping[int, int] = field(default_factory=dict)  # line_no → quantity in flight
    disputed: int = 0  # open chargebacks (not inquiries: no money taken)
    chargebacks: tuple[str, ...] = ()  # the open chargebacks' ids (`d-3`): they stop refunds
    lost: tuple[LostChargeback, ...] = ()  # chargebacks lost or conceded (booked refunded)

    def refused_for_good(self) -> tuple[LostChargeback, ...]:
        """The lost chargebacks after which the provider refunds nothing of the payment."""
        return tuple(c for c in self.lost if c.provider in REFUSES_AFTER_A_LOST_CHARGEBACK)


def refund_headroom(order: Order, reserved: Reserved) -> int:
    """What may still be refunded now: nothing while a chargeback is open (the provider
    refuses any refund of the charge), else what is left after settled refunds, refunds in
    flight and the chargebacks."""
    if reserved.chargebacks or reserved.refused_for_good():
        return 0
    return max(0, order.paid - order.refunded - reserved.refunds - reserved.disputed)


def chargeback_refusal(order: Order, reserved: Reserved) -> str | None:
    """Why no refund of the order's payment may be made through its provider now (None: none
    stops it): an open chargeback — the provider refuses every refund of a charged-back
    charge, the undisputed part too, until the dispute closes (won: the whole payment
    refundable again; lost: see below) — or a chargeback lost or conceded at a provider that
    then refuses every refund of the charge for good (REFUSES_AFTER_A_LOST_CHARGEBACK; at
    Alipay what it left may still be refunded). An inquiry took no money and stops nothing."""
    payment = order.payment_ref or order.public_id
    if reserved.chargebacks:
        return (f"payment {payment} has an open chargeback "
                f"({', '.join(reserved.chargebacks)}, disputed {reserved.disputed}): the "
                "provider refuses any refund of a charged-back payment; refund once the "
                "dispute closes")
    if lost := reserved.refused_for_good():
        named = ", ".join(f"{c.dispute} {c.state} at {c.provider}" for c in lost)
        return (f"payment {payment} was charged back for good ({named}): the provider refuses "
                "every refund of a charged-back charge, the part the bank did not take too "
                "(charge_disputed); pay the buyer outside the provider instead (an offline "
                "payout: money_refunds.record_payout)")
    return None


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


def unmark_refunded(order: Order, units: Mapping[int, int]) -> dict[int, int]:
    """Take back `units` (line_no → quantity) marked refunded by a refund whose money never
    moved (it failed at the gateway): free again for an after-sales case or the redo. A line
    never counts fewer than none; returns what was taken back."""
    by_no, taken = {ln.line_no: ln for ln in order.lines}, {}
    for line_no, quantity in units.items():
        line = by_no[line_no]
        take = min(quantity, line.refunded_quantity)
        if take > 0:
            line.refunded_quantity -= take
            taken[line_no] = take
    return taken


def chargeback_booking(order: Order, disputed: int, refunds_in_flight: int) -> tuple[int, int]:
    """A lost dispute: (booked as refunded, lost beyond what was left to refund).

    The provider has already taken `disputed`; the order can only show what was still
    refundable (refunds in flight keep their share), the rest is a loss for finance to see.
    """
    left = max(0, order.paid - order.refunded - refunds_in_flight)
    booked = min(disputed, left)
    return booked, disputed - booked
