"""After-sales handlers: open a case on order lines, move it, and refund through the order.

A refund fires `refund` on the order too, whose guard keeps the refunded total within what was
paid; per-line refunded quantities stop the same units from being refunded twice.
"""

from __future__ import annotations

from typing import Any

from integrations.service.contention import retrying
from integrations.service.context import Context, Tx
from integrations.service.hooks import after_transition
from integrations.service.idempotency import (
    fire_once,
    remember,
    replay_or_none,
    request_digest,
)
from integrations.service.inputs import CASE_PARAMS, OpenCase, Reasoned, trigger_params
from statemachine.aftersales import CASE_LIFECYCLE, AfterSalesCase, CaseState, case_public_id
from statemachine.errors import GuardRejected, InvalidInput
from statemachine.lifecycle import Fired
from statemachine.order import REFUNDABLE, Order
from statemachine.policies import DeadlineKind

AWAITING_ANSWER = {CaseState.REQUESTED, CaseState.UNDER_REVIEW}


@retrying("opening the case")
def open_case(ctx: Context, order_id: int, request: OpenCase, actor: str,
              idempotency_key: str | None = None) -> int:
    """Open a case on some lines of an order; the response SLA timer starts now."""
    now = ctx.clock.now()
    digest = request_digest(request) + f":o-{order_id}"
    with ctx.tx() as tx:
        if idempotency_key:
            prior = replay_or_none(tx, idempotency_key, "open_case", None, digest)
            if prior is not None:
                return prior
        case_id = add_case(ctx, tx, order_id, request, actor)
        if idempotency_key:
            remember(tx, idempotency_key, "open_case", case_id, now, digest)
        return case_id


def add_case(ctx: Context, tx: Tx, order_id: int, request: OpenCase, actor: str) -> int:
    """Open a case inside the caller's unit of work (history, outbox, SLA timer)."""
    now = ctx.clock.now()
    order = tx.store.get_order(order_id, lock=True)
    if order.state not in REFUNDABLE:
        raise GuardRejected("order", order.public_id, order.state.value, "open_case",
                            "after-sales needs a paid order")
    lines = _case_lines(order, request)
    case_id = tx.store.add_case({
        "order_id": order.id, "kind": request.kind.value, "state": "requested",
        "version": 1, "reason": request.reason, "lines": lines, "inspection": None,
        "refunded": 0, "created_at": now, "updated_at": now})
    case = tx.store.get_case(case_id)
    tx.store.record(Fired("case", case.public_id, "open", None, "requested", "requested",
                          now, actor, {"kind": case.kind.value, "lines": lines,
                                       "reason": request.reason}),
                    case.id, order.id, _event_data(case, order))
    tx.store.set_deadline(DeadlineKind.AFTERSALES_SLA.value, "case", case.id, order.id,
                          now + ctx.timeouts.aftersales_sla)
    return case_id


def fire_case(ctx: Context, case_id: int, trigger: str, actor: str, params: dict[str, Any],
              idempotency_key: str | None = None) -> AfterSalesCase:
    """Move a case; a refund also refunds the order (within what was paid)."""
    checked = trigger_params(trigger, CASE_LIFECYCLE.triggers, CASE_PARAMS, Reasoned, params)
    return fire_once(ctx, idempotency_key, trigger, case_id,
                     lambda tx, n: tx.store.get_case(n, lock=True),
                     lambda tx, case: fire(ctx, tx, case, trigger, actor, checked))


def fire(ctx: Context, tx: Tx, case: AfterSalesCase, trigger: str, actor: str,
         params: dict[str, Any]) -> Fired:
    from integrations.service import orders

    now = ctx.clock.now()
    fired = CASE_LIFECYCLE.fire(case, trigger, at=now, actor=actor, **params)
    tx.store.save_case(case, now)
    if case.state not in AWAITING_ANSWER:
        tx.store.clear_deadlines("case", case.id)
    order = tx.store.get_order(case.order_id)
    if trigger == "refund":
        _mark_lines_refunded(order, case)
        tx.store.save_order_lines(order)
        orders.fire(ctx, tx, order, "refund", actor, {"amount": case.refunded,
                                                      "case": case.public_id})
    tx.store.record(fired, case.id, order.id, _event_data(case, order))
    after_transition(ctx, tx, case, fired)
    return fired


def _case_lines(order: Order, request: OpenCase) -> list[dict[str, int]]:
    by_no = {ln.line_no: ln for ln in order.lines}
    problems, lines = {}, []
    for i, wanted in enumerate(request.lines):
        line = by_no.get(wanted.line_no)
        if line is None:
            problems[f"lines[{i}].line_no"] = (
                f"order {order.public_id} has no line {wanted.line_no}")
        elif wanted.quantity > line.quantity - line.refunded_quantity:
            problems[f"lines[{i}].quantity"] = (
                f"at most {line.quantity - line.refunded_quantity} (got {wanted.quantity})")
        else:
            lines.append({"line_no": line.line_no, "quantity": wanted.quantity,
                          "amount": wanted.quantity * line.unit_price})
    if problems:
        raise InvalidInput(problems)
    return lines


def _mark_lines_refunded(order: Order, case: AfterSalesCase) -> None:
    by_no = {ln.line_no: ln for ln in order.lines}
    for case_line in case.lines:
        line = by_no[case_line.line_no]
        if line.refunded_quantity + case_line.quantity > line.quantity:
            raise GuardRejected("case", case.public_id, case.state.value, "refund",
                                f"line {line.line_no} was already refunded")
        line.refunded_quantity += case_line.quantity


def _event_data(case: AfterSalesCase, order: Order) -> dict[str, Any]:
    return {"case_id": case_public_id(case.id), "kind": case.kind.value,
            "state": case.state.value, "buyer_id": order.buyer_id,
            "requested_amount": case.requested_amount, "refunded": case.refunded}
