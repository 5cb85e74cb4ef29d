"""Order handlers: place an order, fire a trigger, and the consequences of each transition.

A handler runs in one transaction: state change (version-checked), stock movements, deadlines,
history and outbox rows commit together or not at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from integrations.db.repository import Store
from integrations.service.contention import retrying
from integrations.service.context import Context, Tx
from integrations.service.hooks import after_transition
from integrations.service.idempotency import (
    fire_once,
    remember,
    replay_or_none,
    request_digest,
    settle_race,
)
from integrations.service.inputs import ORDER_PARAMS, Empty, PlaceOrder, trigger_params
from integrations.service.packing import pack_facts
from integrations.service.shipments import create_parcels, open_parcels
from statemachine.errors import InsufficientStock, InvalidInput
from statemachine.lifecycle import Fired
from statemachine.order import ORDER_LIFECYCLE, Order, OrderState
from statemachine.policies import DeadlineKind
from statemachine.risk_port import PlacedLine, PlacementFacts, RiskAction
from statemachine.stock import Need, plan_allocation

STOCK_RACE_RETRIES = 5


class _StockRace(Exception):
    """A concurrent order took the stock between our snapshot and our hold: retry."""


@retrying("placing the order")
def place_order(ctx: Context, request: PlaceOrder, actor: str) -> int:
    """Validate, allocate and hold stock, decide risk; returns the new order's number.

    A repeated idempotency key returns the first order; the same key with a different request
    is refused (`KeyReused`, an InvalidInput naming idempotency_key)."""
    key = request.idempotency_key
    digest = request_digest(request) if key else None
    for _ in range(STOCK_RACE_RETRIES):
        try:
            with ctx.tx() as tx:
                prior = replay_or_none(tx, key, "place", None, digest) if key else None
                if prior is not None:
                    return prior
                order_id = _place(ctx, tx, request, actor)
                if key:
                    remember(tx, key, "place", order_id, ctx.clock.now(), digest)
                return order_id
        except _StockRace:
            continue
        except Exception as error:
            return settle_race(ctx, key, "place", None, error, lambda tx, n: n, digest)
    raise InsufficientStock(request.lines[0].sku, request.lines[0].quantity, 0)


def _place(ctx: Context, tx: Tx, request: PlaceOrder, actor: str) -> int:
    now = ctx.clock.now()
    _check_skus_known(tx, request)
    needs = [Need(i, ln.sku, ln.quantity) for i, ln in enumerate(request.lines, start=1)]
    plan = plan_allocation(needs, tx.stock.availability(n.sku for n in needs))
    _ensure_buyer(tx, request.buyer_id, now)
    order_id = tx.store.add_order(_order_values(ctx, request, now), [
        {"line_no": i, "sku": ln.sku, "quantity": ln.quantity, "unit_price": ln.unit_price,
         "refunded_quantity": 0} for i, ln in enumerate(request.lines, start=1)])
    if not tx.stock.try_hold(order_id, plan, now):
        raise _StockRace()
    order = tx.store.get_order(order_id)
    created = Fired("order", order.public_id, "place", None, "created", "created", now, actor,
                    {"allocation": [[a.sku, a.warehouse, a.quantity] for a in plan]})
    tx.store.record(created, order.id, order.id, event_data(order))
    decision = ctx.risk_check(_facts(order, request, now), tx.connection)
    order.attrs["risk"] = {"action": decision.action.value, "score": decision.score,
                           "reasons": [{"rule": r.rule, "text": r.text, "values": dict(r.values)}
                                       for r in decision.reasons]}
    trigger = {RiskAction.APPROVE: "approve", RiskAction.REVIEW: "review",
               RiskAction.REJECT: "reject"}[decision.action]
    reason = "; ".join(r.text for r in decision.reasons) or None
    fire(ctx, tx, order, trigger, "risk-engine", {"reason": reason})
    return order_id


def fire_order(ctx: Context, order_id: int, trigger: str, actor: str,
               params: dict[str, Any], idempotency_key: str | None = None) -> Order:
    """Fire `trigger` on an order with validated params; a repeated key applies once."""
    checked = trigger_params(trigger, list(ORDER_PARAMS), ORDER_PARAMS, Empty, params)
    return fire_once(ctx, idempotency_key, trigger, order_id,
                     lambda tx, n: tx.store.get_order(n, lock=True),
                     lambda tx, order: fire(ctx, tx, order, trigger, actor, checked))


def fire(ctx: Context, tx: Tx, order: Order, trigger: str, actor: str,
         params: dict[str, Any]) -> Fired:
    """The one path every order transition takes (API, sweeps, cascades from parcels)."""
    now = ctx.clock.now()
    fired = ORDER_LIFECYCLE.fire(order, trigger, at=now, actor=actor,
                                 **_derived(ctx, tx, order, trigger, params, now))
    tx.store.save_order(order, now)
    _move_stock(tx, order, trigger)
    _keep_deadlines(ctx, tx.store, order, fired, now)
    if trigger == "ship":
        fired.payload["parcels"] = create_parcels(ctx, tx, order, params, now, actor)
    tx.store.record(fired, order.id, order.id, event_data(order))
    after_transition(ctx, tx, order, fired)
    return fired


def event_data(order: Order) -> dict[str, Any]:
    """What every order event carries, so consumers rarely need to read back."""
    return {"buyer_id": order.buyer_id, "state": order.state.value, "total": order.total,
            "currency": order.currency, "paid": order.paid, "refunded": order.refunded}


def _derived(ctx: Context, tx: Tx, order: Order, trigger: str, params: dict[str, Any],
             now: datetime) -> dict[str, Any]:
    """Facts a guard needs that the caller does not supply (hold end, open parcels)."""
    derived = dict(params)
    if trigger == "approve":
        derived["hold_until"] = now + ctx.timeouts.hold
    elif trigger == "extend_hold":
        base = max(order.hold_expires_at or now, now)
        derived["until"] = base + timedelta(minutes=derived.pop("minutes"))
    elif trigger in ("deliver", "close"):
        derived["open_parcels"] = open_parcels(tx.store, order.id)
    elif trigger == "pack":
        derived.update(pack_facts(ctx, tx, order))
    return derived


def _move_stock(tx: Tx, order: Order, trigger: str) -> None:
    if trigger in ("reject", "expire"):
        tx.stock.release([order.id])
    elif trigger == "pay":
        tx.stock.consume([order.id])
    elif trigger == "cancel":
        tx.stock.release([order.id])
        tx.stock.restock([order.id])


STATE_DEADLINES = {OrderState.AWAITING_PAYMENT: DeadlineKind.HOLD_EXPIRY,
                   OrderState.UNDER_REVIEW: DeadlineKind.REVIEW_SLA,
                   OrderState.DELIVERED: DeadlineKind.AUTO_COMPLETE}


def _keep_deadlines(ctx: Context, store: Store, order: Order, fired: Fired,
                    now: datetime) -> None:
    """Each state has at most one timer; leaving the state cancels it."""
    if fired.from_state != fired.to_state and fired.from_state in STATE_DEADLINES:
        store.clear_deadlines("order", order.id)
    kind = STATE_DEADLINES.get(order.state)
    if kind is None or (fired.from_state == fired.to_state and kind != DeadlineKind.HOLD_EXPIRY):
        return
    due = {DeadlineKind.HOLD_EXPIRY: order.hold_expires_at,
           DeadlineKind.REVIEW_SLA: now + ctx.timeouts.review_sla,
           DeadlineKind.AUTO_COMPLETE: now + ctx.timeouts.auto_complete}[kind]
    store.set_deadline(kind.value, "order", order.id, order.id, due)


def _check_skus_known(tx: Tx, request: PlaceOrder) -> None:
    known = tx.stock.known_skus(ln.sku for ln in request.lines)
    unknown = {f"lines[{i}].sku": f"unknown sku {ln.sku!r} (no inventory in any warehouse)"
               for i, ln in enumerate(request.lines) if ln.sku not in known}
    if unknown:
        raise InvalidInput(unknown)


def _ensure_buyer(tx: Tx, buyer_id: str, now: datetime) -> None:
    """First order of a buyer creates the buyer row (ON CONFLICT works on SQLite and PostgreSQL)."""
    tx.store.sql.run("INSERT INTO buyers (id, created_at, credit_score) VALUES (:id, :at, 100) "
                     "ON CONFLICT (id) DO NOTHING", {"id": buyer_id, "at": now})


def _order_values(ctx: Context, request: PlaceOrder, now: datetime) -> dict[str, Any]:
    attrs = {"shipping_address": request.shipping_address.model_dump(exclude_none=True),
             "device_id": request.device_id, "ip": str(request.ip) if request.ip else None,
             "phone": request.phone or request.shipping_address.phone,
             "service": request.service}
    return {"buyer_id": request.buyer_id, "state": OrderState.CREATED.value, "version": 1,
            "currency": request.currency or ctx.settings.currency,
            "total": sum(ln.quantity * ln.unit_price for ln in request.lines), "paid": 0,
            "refunded": 0, "payment_ref": None, "hold_expires_at": None,
            "attrs": {k: v for k, v in attrs.items() if v is not None},
            "created_at": now, "updated_at": now}


def _facts(order: Order, request: PlaceOrder, now: datetime) -> PlacementFacts:
    return PlacementFacts(
        order_id=order.public_id, buyer_id=order.buyer_id, amount=order.total,
        currency=order.currency, placed_at=now,
        lines=tuple(PlacedLine(ln.sku, ln.quantity, ln.unit_price) for ln in order.lines),
        shipping_address=request.shipping_address.model_dump(exclude_none=True),
        device_id=request.device_id, ip=str(request.ip) if request.ip else None,
        phone=request.phone or request.shipping_address.phone)
