"""The order aggregate: its states and triggers, its lines and its payment track.

Money is in integer minor units. The payment track (paid / refunded) lives on the order;
refunded can never exceed paid. What may happen to an order, and what each step does, is the
lifecycle table's (statemachine/order.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from statemachine import ids
from statemachine.stock import Allocation


class OrderState(StrEnum):
    CREATED = "created"
    VERIFYING = "verifying"  # the buyer is asked to prove who they are (SMS code)
    UNDER_REVIEW = "under_review"
    AWAITING_PAYMENT = "awaiting_payment"
    # money on its way but not settled: a card authorised and not yet captured, a bank
    # transfer processing. The stock stays held until the payment's own deadline.
    PAYMENT_PENDING = "payment_pending"
    PAID = "paid"
    PICKING = "picking"
    BACKORDERED = "backordered"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class OrderTrigger(StrEnum):
    APPROVE = "approve"
    VERIFY = "verify"
    REVIEW = "review"
    REJECT = "reject"
    EXTEND_HOLD = "extend_hold"
    START_PAYMENT = "start_payment"
    FAIL_PAYMENT = "fail_payment"
    PAY = "pay"
    CAPTURE = "capture"
    REVIVE = "revive"
    EXPIRE = "expire"
    START_PICKING = "start_picking"
    DOUBLE_CHECK = "double_check"
    REALLOCATE = "reallocate"
    BACKORDER = "backorder"
    PACK = "pack"
    SHIP = "ship"
    DELIVER = "deliver"
    CLOSE = "close"
    CANCEL = "cancel"
    REFUND = "refund"
    CORRECT_ADDRESS = "correct_address"


class PaymentStatus(StrEnum):
    UNPAID = "unpaid"
    AUTHORISED = "authorised"  # capture at shipping: the money is guaranteed, not yet taken
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


@dataclass(eq=False)
class OrderLine:
    line_no: int
    sku: str
    quantity: int
    unit_price: int
    refunded_quantity: int = 0

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


@dataclass(eq=False)
class Order:
    id: int
    buyer_id: str
    state: OrderState
    version: int
    currency: str
    total: int
    lines: list[OrderLine]
    created_at: datetime
    paid: int = 0
    refunded: int = 0
    payment_ref: str | None = None
    hold_expires_at: datetime | None = None
    attrs: dict[str, Any] = field(default_factory=dict)  # address, device, ip, phone, risk
    allocation: tuple[Allocation, ...] = ()  # the stock plan chosen at placement (HOLD)
    refusal: str | None = None
    step_payload: dict[str, Any] = field(default_factory=dict)

    @property
    def public_id(self) -> str:
        return order_public_id(self.id)

    @property
    def payment_status(self) -> PaymentStatus:
        if self.paid == 0:
            return PaymentStatus.AUTHORISED if self.authorisation else PaymentStatus.UNPAID
        if self.refunded == 0:
            return PaymentStatus.PAID
        return PaymentStatus.REFUNDED if self.refunded >= self.paid else \
            PaymentStatus.PARTIALLY_REFUNDED

    @property
    def authorisation(self) -> dict[str, Any] | None:
        """An authorisation kept for capture at shipping, until it is captured."""
        return self.attrs.get("authorisation")


def order_public_id(number: int) -> str:
    return ids.ORDER(number)
