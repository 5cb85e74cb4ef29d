"""What a settled payment operation means for the order and its cases (one place)."""

from __future__ import annotations

from datetime import datetime

from integrations.service import aftersales, orders
from integrations.service.context import Context, Tx
from integrations.service.late_payments import late_money_refunded, take_late_money
from statemachine import ids
from statemachine.aftersales import CASE_LIFECYCLE, COUNTED_BY_ORDER
from statemachine.money import OperationKind, PaymentOperation, mark_refunded
from statemachine.order import ORDER_LIFECYCLE, UNPAYABLE, takes_payment
from statemachine.order_aggregate import Order
from statemachine.ports import PaymentResult


def apply_effects(ctx: Context, tx: Tx, order: Order, operation: PaymentOperation,
                  result: PaymentResult, now: datetime, *, counted: int = 0) -> None:
    """The settled operation's steps and events, all at `now` (the settling call's time).
    `counted`: what of a refund the order counted refunded already (a provider refund counted
    by amount before its units, this refund's, were known): not counted again."""
    if operation.kind is OperationKind.CAPTURE:
        _captured(ctx, tx, order, operation, result, now)
    elif operation.kind is OperationKind.REFUND and operation.purpose.get("cancel"):
        tx.writer.signal("refund_settled", "order", order.id, order.id, now, {
            "amount": result.amount, "receipt": result.ref, "payment_ref": result.payment_ref,
            "state": order.state.value})  # the cancel step already counted it on the order
    elif operation.kind is OperationKind.REFUND:
        _refunded(ctx, tx, order, operation, now, counted)


def _captured(ctx: Context, tx: Tx, order: Order, operation: PaymentOperation,
              result: PaymentResult, now: datetime) -> None:
    if takes_payment(order):
        orders.fire(ctx, tx, order, "pay", operation.actor,
                    {"amount": result.amount, "payment_ref": operation.payment_ref}, now=now)
    elif order.authorisation and ORDER_LIFECYCLE.can(order.state, "capture"):
        orders.fire(ctx, tx, order, "capture", operation.actor, {"amount": result.amount},
                    now=now)
    elif order.paid == 0 and order.state in UNPAYABLE or order.paid and \
            (operation.payment_ref or result.ref) != order.payment_ref:
        # expired while the capture was made, or paid meanwhile by another payment (the
        # buyer paid twice): late money, its refund is made by the money sweep
        take_late_money(ctx, tx, order, result.amount, operation.payment_ref or result.ref,
                        operation.provider, currency=operation.currency, now=now)
    else:  # this payment was booked meanwhile, or the order moved on: ops must look
        tx.writer.signal("capture_unmatched", "order", order.id, order.id, now,
                         {"operation": operation.key, "amount": result.amount,
                          "state": order.state.value})


def _refunded(ctx: Context, tx: Tx, order: Order, operation: PaymentOperation,
              now: datetime, counted: int) -> None:
    """A case refund settles the case (and through it the order); any other refund the order.
    A case that moved on while its refund was in flight cannot take it: the order books it."""
    if operation.purpose.get("late"):  # the order never took this money: only the ledger
        late_money_refunded(tx, order, operation, now)
        return
    case_ref = operation.purpose.get("case")
    if case_ref:
        case = tx.store.get_case(ids.CASE.parse(case_ref))
        if CASE_LIFECYCLE.can(case.state, "refund"):
            aftersales.fire(ctx, tx, case, "refund", operation.actor,
                            {"amount": operation.amount, COUNTED_BY_ORDER: counted}, now=now)
            return
    if operation.amount > counted:
        orders.fire(ctx, tx, order, "refund", operation.actor, {
            "amount": operation.amount - counted, "case": case_ref,
            "reason": operation.reason or f"refund {operation.key}"}, now=now)
    if operation.lines and mark_refunded(order, {ln.line_no: ln.quantity
                                                 for ln in operation.lines}):
        tx.writer.save_lines(order)  # the units it settled, as the case's step would have
