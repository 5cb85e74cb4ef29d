"""Rows ↔ domain objects, in small functions (the only place that knows both shapes)."""

from __future__ import annotations

from typing import Any

from statemachine.aftersales import AfterSalesCase, CaseKind, CaseLine, CaseState, Inspection
from statemachine.order import Order, OrderLine, OrderState
from statemachine.shipment import Shipment, ShipmentState


def order_from_row(row: Any, lines: list[Any]) -> Order:
    return Order(
        id=row.id, buyer_id=row.buyer_id, state=OrderState(row.state), version=row.version,
        currency=row.currency, total=row.total, created_at=row.created_at, paid=row.paid,
        refunded=row.refunded, payment_ref=row.payment_ref,
        hold_expires_at=row.hold_expires_at, attrs=dict(row.attrs or {}),
        lines=[OrderLine(ln.line_no, ln.sku, ln.quantity, ln.unit_price, ln.refunded_quantity)
               for ln in lines],
    )


def order_changes(order: Order) -> dict[str, Any]:
    """The columns a transition may change on an order."""
    return {"state": order.state.value, "paid": order.paid, "refunded": order.refunded,
            "payment_ref": order.payment_ref, "hold_expires_at": order.hold_expires_at,
            "attrs": order.attrs}


def shipment_from_row(row: Any) -> Shipment:
    return Shipment(
        id=row.id, order_id=row.order_id, state=ShipmentState(row.state), version=row.version,
        warehouse=row.warehouse, carrier=row.carrier, tracking_no=row.tracking_no,
        created_at=row.created_at, last_scan_at=row.last_scan_at, promised_by=row.promised_by,
        stall_reason=row.stall_reason,
    )


def shipment_changes(shipment: Shipment) -> dict[str, Any]:
    return {"state": shipment.state.value, "last_scan_at": shipment.last_scan_at,
            "stall_reason": shipment.stall_reason}


def case_from_row(row: Any) -> AfterSalesCase:
    return AfterSalesCase(
        id=row.id, order_id=row.order_id, kind=CaseKind(row.kind), state=CaseState(row.state),
        version=row.version, reason=row.reason, created_at=row.created_at,
        lines=tuple(CaseLine(ln["line_no"], ln["quantity"], ln["amount"]) for ln in row.lines),
        inspection=Inspection(row.inspection) if row.inspection else None,
        refunded=row.refunded,
    )


def case_changes(case: AfterSalesCase) -> dict[str, Any]:
    return {"state": case.state.value, "refunded": case.refunded,
            "inspection": case.inspection.value if case.inspection else None}
