"""Read models handed to callers (Python API, CLI, HTTP): plain pydantic objects, no lazy loads.

Views of aggregates are built without validation: their values come from our own typed
aggregates, so validating them again would only cost time; their schemas still document the
API and validate what callers send back. `View.trusted` sets the instance up the way pydantic's
`model_construct` does for a call naming every field (same `__dict__`, fields set, no extra, no
private state; tests/unit/test_views.py checks the two agree) without its per-field loop over
aliases and defaults: an order view with one line, timed in one process (load ~1.6), cost
12–22 µs through `model_construct` and 8–11 µs this way — on every API call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict

from statemachine import ids
from statemachine.aftersales import AfterSalesCase
from statemachine.money import (
    REFUNDED_BY_MERCHANT,
    OperationStatus,
    PaymentOperation,
    refund_in_admin,
)
from statemachine.order_aggregate import Order
from statemachine.shipment import Shipment

_set = object.__setattr__


class View(BaseModel):
    model_config = ConfigDict(frozen=True)

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """A view from values we produced ourselves, every field named in declaration order
        (what `model_construct(**values)` builds, without its per-field loop)."""
        view = cls.__new__(cls)
        _set(view, "__dict__", values)
        _set(view, "__pydantic_fields_set__", set(values))
        _set(view, "__pydantic_extra__", None)
        _set(view, "__pydantic_private__", None)
        return view


class LineView(View):
    line_no: int
    sku: str
    quantity: int
    unit_price: int
    refunded_quantity: int


class OrderView(View):
    id: str
    buyer_id: str
    state: str
    version: int
    currency: str
    total: int
    paid: int
    refunded: int
    payment_status: str
    payment_ref: str | None
    hold_expires_at: datetime | None
    created_at: datetime
    lines: list[LineView]
    risk: dict[str, Any] | None
    shipping_address: dict[str, Any]
    # why the address fields sent contradict each other ("province contradicts city: 广东省
    # does not contain 杭州市 (浙江省)"): for a shop printing its own labels to flag them, as
    # labels bought through orderpilot are (service/label_check.py); orders placed since
    # 2026-11-29
    address_conflicts: list[str]
    # the last correction of the address before shipping (at, by, reason, and the conflicts
    # the address had before it: what a review was held for), None if never corrected
    address_corrected: dict[str, Any] | None = None

    @classmethod
    def of(cls, order: Order) -> OrderView:
        attrs = order.attrs  # read once: a stored order's is a property (db/rows.py)
        return cls.trusted(
            id=order.public_id, buyer_id=order.buyer_id, state=order.state.value,
            version=order.version, currency=order.currency, total=order.total, paid=order.paid,
            refunded=order.refunded, payment_status=order.payment_status.value,
            payment_ref=order.payment_ref, hold_expires_at=order.hold_expires_at,
            created_at=order.created_at,
            lines=[LineView.trusted(
                line_no=ln.line_no, sku=ln.sku, quantity=ln.quantity, unit_price=ln.unit_price,
                refunded_quantity=ln.refunded_quantity) for ln in order.lines],
            risk=attrs.get("risk"), shipping_address=attrs.get("shipping_address", {}),
            address_conflicts=list((attrs.get("address") or {}).get("conflicts", ())),
            address_corrected=attrs.get("address_corrected"))


class ShipmentView(View):
    id: str
    order_id: str
    state: str
    version: int
    warehouse: str
    carrier: str
    tracking_no: str
    created_at: datetime
    last_scan_at: datetime | None
    promised_by: datetime | None
    stall_reason: str | None
    purpose: str = "order"  # order | return | replacement | repaired
    case_id: str | None = None  # the after-sales case an after-sales parcel belongs to

    @classmethod
    def of(cls, s: Shipment) -> ShipmentView:
        return cls.trusted(
                   id=s.public_id, order_id=ids.ORDER(s.order_id), state=s.state.value,
                   version=s.version, warehouse=s.warehouse, carrier=s.carrier,
                   tracking_no=s.tracking_no, created_at=s.created_at,
                   last_scan_at=s.last_scan_at, promised_by=s.promised_by,
                   stall_reason=s.stall_reason, purpose=s.purpose,
                   case_id=ids.CASE(s.case_id) if s.case_id else None)


class CaseView(View):
    id: str
    order_id: str
    kind: str
    state: str
    version: int
    reason: str
    lines: list[dict[str, int]]
    requested_amount: int
    refunded: int
    inspection: str | None
    created_at: datetime

    @classmethod
    def of(cls, c: AfterSalesCase) -> CaseView:
        return cls.trusted(
                   id=c.public_id, order_id=ids.ORDER(c.order_id), kind=c.kind.value,
                   state=c.state.value, version=c.version, reason=c.reason,
                   lines=[{"line_no": ln.line_no, "quantity": ln.quantity, "amount": ln.amount}
                          for ln in c.lines],
                   requested_amount=c.requested_amount, refunded=c.refunded,
                   inspection=c.inspection.value if c.inspection else None,
                   created_at=c.created_at)


class CaseRefund(View):
    """What a case refund through the payment provider did (`pilot.cases.refund`): `status`
    is its payment operation's — `succeeded` (paid; the case and its order count it),
    `pending` (accepted and not confirmed yet, or failed for now — `error` says how — and
    retried by the money sweep under the same key: the case counts it when it settles) or
    `refused` (refused for good, `error` saying why: nothing counted, the case waits as it
    was). `refund` is the operation's idempotency key — None only when an approval's refund
    was refused by the store before the provider was asked (`ApprovedCase`) —, `amount` and
    `currency` what was asked; `case` is the case as it is now. `in_admin_of`: the provider
    whose admin the merchant makes this refund in (`shopify`: the order's money is Shopify's,
    never sent back through orderpilot's gateway) — `pending` until that provider's refund
    webhook settles it, `note` saying so; None when orderpilot asks the provider itself."""

    status: Literal["succeeded", "pending", "refused"]
    case: CaseView
    refund: str | None
    amount: int
    currency: str
    error: str | None = None
    in_admin_of: str | None = None
    note: str | None = None

    @classmethod
    def of(cls, operation: PaymentOperation, case: CaseView) -> CaseRefund:
        return cls.trusted(case=case, **_refund_outcome(operation))

    @classmethod
    def refused_by_store(cls, case: CaseView, amount: int, currency: str,
                         reason: str) -> CaseRefund:
        """A refund the store refused to record (no operation, nothing asked of a provider)."""
        return cls.trusted(status="refused", case=case, refund=None, amount=amount,
                           currency=currency, error=reason, in_admin_of=None, note=None)


class GoodwillRefund(View):
    """What a refund not tied to a case did (goodwill, a price adjustment:
    `pilot.orders.refund_goodwill`): `status` is its payment operation's, as `CaseRefund`'s —
    `succeeded` (paid; the order counts it), `pending` (accepted and not confirmed yet, or
    failed for now — `error` says how — and made by the money sweep under the same key) or
    `refused` (refused for good, `error` saying why: nothing counted). `refund` is the
    operation's key (`refund:o-17:auto-<n>`, or `refund:o-17:<your key>`), `amount` and `currency`
    what was asked, `order` the order as it is now; `in_admin_of` / `note` as `CaseRefund`'s
    (an order paid through Shopify: made by the merchant in Shopify's admin)."""

    status: Literal["succeeded", "pending", "refused"]
    order: OrderView
    refund: str
    amount: int
    currency: str
    error: str | None = None
    in_admin_of: str | None = None
    note: str | None = None

    @classmethod
    def of(cls, operation: PaymentOperation, order: OrderView) -> GoodwillRefund:
        return cls.trusted(order=order, **_refund_outcome(operation))


def _refund_outcome(operation: PaymentOperation) -> dict[str, Any]:
    """The fields a case refund and a goodwill refund show alike, read from their operation."""
    status = _STATUS[operation.status]
    error = operation.error or ("no reason given" if status == "refused" else None)
    return {"status": status, "refund": operation.key, "amount": operation.amount,
            "currency": operation.currency, "error": None if status == "succeeded" else error,
            "in_admin_of": operation.provider if operation.provider in REFUNDED_BY_MERCHANT
            else None,
            "note": admin_note(operation)}


def admin_note(operation: PaymentOperation) -> str | None:
    """Why a refund of ours waits, when it waits for the merchant in a provider's admin."""
    provider = operation.provider
    if operation.status is not OperationStatus.PENDING or provider not in REFUNDED_BY_MERCHANT:
        return None
    return (f"{refund_in_admin(provider)}: orderpilot never sends back money {provider.title()} "
            f"took; the case and its order count the refund when {provider.title()}'s refund "
            "webhook says it was made")


class ApprovedCase(CaseView):
    """What `pilot.cases.approve` answers: the case as the approval left it (every `CaseView`
    field, as before) and `refund`, what became of its money — None when the approval asks
    for none (a return: its refund follows the inspection of the goods), else a `CaseRefund`
    as `pilot.cases.refund` answers: `succeeded` (the case refunded), `pending` (a timeout:
    the money sweep pays it with the same key) or `refused` (nothing counted, `error` says
    why: the provider's answer, or the store's when its order was refunded in full already —
    then `refund.refund` is None). The approval stands in every case. `refund_note`: the
    refund's `note` — why orderpilot does not pay it (an order paid through Shopify: to be
    made in Shopify's admin) —, else None."""

    refund: CaseRefund | None
    refund_note: str | None = None

    @classmethod
    def of_approval(cls, case: CaseView, refund: CaseRefund | None) -> ApprovedCase:
        return cls.trusted(**dict(case), refund=refund,
                           refund_note=refund.note if refund else None)


_STATUS: dict[OperationStatus, Literal["succeeded", "pending", "refused"]] = {
    OperationStatus.SUCCEEDED: "succeeded", OperationStatus.PENDING: "pending",
    OperationStatus.FAILED: "refused"}


class TransitionView(View):
    entity: str
    entity_id: str
    trigger: str
    from_state: str | None
    to_state: str
    actor: str
    at: datetime
    payload: dict[str, Any]

    @classmethod
    def of(cls, row: dict[str, Any]) -> TransitionView:
        return cls(**{**row, "entity_id": ids.BY_ENTITY[row["entity"]](row["entity_id"])})


class StockLevel(View):
    sku: str
    warehouse: str
    on_hand: int
    reserved: int
    available: int
