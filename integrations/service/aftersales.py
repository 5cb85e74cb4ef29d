"""After-sales handlers: open a case on order lines and move it through the one pipeline.

A refund fires `refund` on the order too (kinds.refund_orders), whose guard keeps the refunded
total within what was paid; per-line refunded quantities stop the same units being refunded
twice. The response SLA is a timer of the case lifecycle (statemachine/aftersales.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.service import pipeline
from integrations.service.case_money import units_to_settle
from integrations.service.contention import retrying
from integrations.service.context import Context, Tx
from integrations.service.idempotency import (
    fire_once,
    remember,
    replay_or_none,
    request_digest,
)
from integrations.service.inputs import CASE_PARAMS, OpenCase, Reasoned, trigger_params
from integrations.service.kinds import CASE
from statemachine import ids
from statemachine.aftersales import (
    AWAITING_ANSWER,
    CASE_LIFECYCLE,
    OPEN,
    AfterSalesCase,
    CaseLine,
    CaseState,
)
from statemachine.errors import GuardRejected, InvalidInput, UnitsInOpenCase
from statemachine.lifecycle import Fired
from statemachine.order import REFUNDABLE
from statemachine.order_aggregate import Order

__all__ = ["AWAITING_ANSWER", "add_case", "fire", "fire_case", "open_case"]


@retrying("opening the case")
def open_case(ctx: Context, order_id: int, request: OpenCase, actor: str,
              idempotency_key: str | None = None, now: datetime | None = None) -> int:
    """Open a case on some lines of an order; the response SLA timer starts now. A key
    reused for a different request is refused (`KeyReused`)."""
    now = now or ctx.clock.now()
    digest = f"{request_digest(request)}:{ids.ORDER(order_id)}"
    with ctx.tx() as tx:
        if idempotency_key:
            prior = replay_or_none(tx, idempotency_key, "open_case", None, digest)
            if prior is not None:
                return prior
        case_id = add_case(ctx, tx, order_id, request, actor, now)
        if idempotency_key:
            remember(tx, idempotency_key, "open_case", case_id, now, digest)
        return case_id


def add_case(ctx: Context, tx: Tx, order_id: int, request: OpenCase, actor: str,
             now: datetime) -> int:
    """Open a case inside the caller's unit of work (history, outbox, SLA timer)."""
    order = tx.store.get_order(order_id, lock=True)
    if order.state not in REFUNDABLE:
        raise GuardRejected("order", order.public_id, order.state.value, "open_case",
                            "after-sales needs a paid order")
    lines = _case_lines(order, request)
    _refuse_units_in_open_cases(tx, order, lines)
    case = AfterSalesCase(id=0, order_id=order.id, kind=request.kind,
                          state=CaseState.REQUESTED, version=1, reason=request.reason,
                          lines=tuple(CaseLine(**ln) for ln in lines), created_at=now)
    created = pipeline.create(ctx, tx, CASE, case, actor, {
        "kind": case.kind.value, "lines": lines, "reason": request.reason}, now)
    pipeline.record(ctx, tx, [created])
    return case.id


def fire_case(ctx: Context, case_id: int, trigger: str, actor: str, params: dict[str, Any],
              idempotency_key: str | None = None, now: datetime | None = None) -> AfterSalesCase:
    """Move a case; a refund also refunds the order (within what was paid)."""
    checked = trigger_params(trigger, CASE_LIFECYCLE.triggers, CASE_PARAMS, Reasoned, params)
    now = now or ctx.clock.now()
    return fire_once(ctx, idempotency_key, trigger, case_id,
                     lambda tx, n: tx.store.get_case(n, lock=True),
                     lambda tx, case: fire(ctx, tx, case, trigger, actor, checked, now=now),
                     checked, now)


def fire(ctx: Context, tx: Tx, case: AfterSalesCase, trigger: str, actor: str,
         params: dict[str, Any], *, now: datetime) -> Fired:
    """The one path every case transition takes; `now`: the calling service's clock read."""
    return pipeline.fire(ctx, tx, CASE, case, trigger, actor, params, now)


def _case_lines(order: Order, request: OpenCase) -> list[dict[str, int]]:
    by_no = {ln.line_no: ln for ln in order.lines}
    problems, lines, first = {}, [], {}
    for i, wanted in enumerate(request.lines):
        line = by_no.get(wanted.line_no)
        if wanted.line_no in first:  # refunding it would move the whole sum at the provider
            problems[f"lines[{i}].line_no"] = (
                f"line {wanted.line_no} is already named in lines[{first[wanted.line_no]}]: "
                "name each line once with its whole quantity")
            continue
        first[wanted.line_no] = i
        if line is None:
            problems[f"lines[{i}].line_no"] = (
                f"order {order.public_id} has no line {wanted.line_no}")
        elif wanted.quantity > line.quantity - line.refunded_quantity:
            problems[f"lines[{i}].quantity"] = (
                f"at most {line.quantity - line.refunded_quantity}: line {line.line_no} has "
                f"{line.quantity - line.refunded_quantity} of its {line.quantity} units left "
                f"for after-sales, {line.refunded_quantity} refunded already (by a case, a "
                f"lost or returned parcel's claim, or a refund made in the provider's admin) "
                f"(got {wanted.quantity})")
        else:
            lines.append({"line_no": line.line_no, "quantity": wanted.quantity,
                          "amount": wanted.quantity * line.unit_price})
    if problems:
        raise InvalidInput(problems)
    return lines


def _refuse_units_in_open_cases(tx: Tx, order: Order, lines: list[dict[str, int]]) -> None:
    """One open case per unit: a line's units in another open case (less those its lost
    return parcels' claims refunded: counted as refunded already) are not free for a new one.
    Read under the order's lock, so two cases opened at once on one unit cannot both pass;
    a case refunded, closed or rejected frees what it held."""
    held: dict[int, list[tuple[AfterSalesCase, int]]] = {}
    for case in tx.store.cases_of(order.id):
        if case.state in OPEN:
            for line_no, quantity in units_to_settle(tx, case).items():
                held.setdefault(line_no, []).append((case, quantity))
    by_no = {ln.line_no: ln for ln in order.lines}
    busy, cases = [], {}
    for wanted in lines:
        line, taken = by_no[wanted["line_no"]], held.get(wanted["line_no"], [])
        free = line.quantity - line.refunded_quantity - sum(q for _, q in taken)
        if wanted["quantity"] > free:
            cases.update({case.public_id: None for case, _ in taken})
            busy.append(f"line {line.line_no}: {wanted['quantity']} unit(s) asked, {free} "
                        "free; " + ", ".join(f"{q} in {case.public_id} ({case.state})"
                                             for case, q in taken))
    if busy:
        raise UnitsInOpenCase(order.public_id, order.state.value, busy, list(cases))
