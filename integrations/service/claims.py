"""Parcel claims: store, lifecycle fire, and the compensation helpers shared by the lost,
damaged and returned paths (refund the parcel's goods, or reship them from the nearest stock).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.db.fulfil_store import (
    CLAIM_COLS,
    FulfilStore,
    HoldRow,
    claim_open_for,
    claim_rows,
)
from integrations.db.money_store import MoneyStore
from integrations.service import orders, pipeline, shipments
from integrations.service.context import Context, Tx
from integrations.service.inputs import Edge, parse
from integrations.service.kinds import CLAIM
from integrations.service.money_refunds import request_compensation
from statemachine import ids
from statemachine.claim import CLAIM_LIFECYCLE, Claim, ClaimKind, ClaimState
from statemachine.errors import GuardRejected, InvalidInput
from statemachine.fulfilment import parcel_loads, plan_refill
from statemachine.lifecycle import Fired
from statemachine.money import mark_refunded
from statemachine.order_aggregate import Order, OrderState
from statemachine.shipment import Shipment, ShipmentState


class ClaimParams(Edge):
    amount: int | None = None
    carrier_ref: str | None = None
    reason: str | None = None


def parcel_goods(store: FulfilStore, order: Order, shipment: Shipment,
                 state: ShipmentState | None = None) -> list[HoldRow]:
    """The sold units a parcel carries: those tagged with it (a reship's or an exchange's
    replacement, a return label's: the case's units), or the order's untagged sold
    stock in the parcel's warehouse (a replacement may leave from the warehouse of another
    parcel of the order: counted by warehouse, that parcel's loss took the replacement's goods
    too, refunding them while on their way). A refusal names `state` (default: the parcel's):
    the state the parcel is in when a step this refusal rolls back already moved it."""
    goods = store.parcel_holds(order.id, shipment.id, shipment.warehouse,
                               return_label=shipment.purpose == "return")
    if not goods:
        raise GuardRejected("shipment", shipment.public_id, (state or shipment.state).value,
                            "claim", "no sold goods left on this parcel (already settled)")
    return goods


def goods_value(order: Order, goods: list[HoldRow]) -> int:
    price = {ln.line_no: ln.unit_price for ln in order.lines}
    return sum(h.quantity * price[h.line_no] for h in goods)


def refund_goods(ctx: Context, tx: Tx, order: Order, shipment: Shipment, goods: list[HoldRow],
                 actor: str, reason: str, now: datetime) -> int:
    """Record the refund of the goods' value through the payment provider (never more than is
    left to refund); the caller pays it out after commit. Their units are marked refunded on
    the order's lines, so no after-sales case can be opened on goods already paid back.
    Returns the amount."""
    locked = tx.store.get_order(order.id, lock=True)
    operation = request_compensation(ctx, tx, locked, goods_value(locked, goods),
                                     f"compensation:{shipment.public_id}", actor, reason, now)
    if operation is None and MoneyStore(tx.store.sql).reserved(locked.id).chargebacks:
        # an open chargeback stopped the compensation (the provider refuses any refund of the
        # payment): the units stay unrefunded, so a case can pay them once the dispute
        # closes — marked refunded with nothing paid, nobody would ever pay them
        return 0
    units: dict[int, int] = {}
    for hold in goods:
        units[hold.line_no] = units.get(hold.line_no, 0) + hold.quantity
    # units a case refund in flight settles are left to it (its step marks them when paid)
    spoken_for = MoneyStore(tx.store.sql).reserved(locked.id).lines
    units = {n: min(q, _line(locked, n).quantity - _line(locked, n).refunded_quantity
                    - spoken_for.get(n, 0)) for n, q in units.items()}
    if mark_refunded(locked, {n: q for n, q in units.items() if q > 0}):
        tx.writer.save_lines(locked)
    return operation.amount if operation is not None else 0


def reship_goods(ctx: Context, tx: Tx, order: Order, shipment: Shipment,
                 goods: list[HoldRow], actor: str, now: datetime) -> list[str] | None:
    """Sell the same units again from the nearest stock and send new parcels, each carrying
    the units of its warehouse (None: no stock, nothing taken)."""
    store, plan, sold = FulfilStore(tx.connection), [], []
    for hold in goods:
        free = {wh: q for (_, wh), q in tx.stock.availability([hold.sku]).items()}
        sources = plan_refill(hold.quantity, shipment.warehouse, free,
                              ctx.settings.fulfilment.distance, include_origin=True)
        if not sources:
            return None
        plan += [(hold, src) for src in sources]
    for hold, src in plan:
        taken = store.consume_from(order.id, hold.line_no, hold.sku, src.warehouse,
                                   src.quantity, now)
        if taken is None:
            return None
        sold.append(taken)
    parcels = [{"carrier": shipment.carrier, "warehouse": wh,
                "tracking_no": f"{shipment.tracking_no}-R{n}"}
               for n, wh in enumerate(sorted({src.warehouse for _, src in plan}), start=1)]
    made = shipments.create_parcels(ctx, tx, order, {"parcels": parcels}, now, actor)
    store.load_parcels(parcel_loads(
        [(h.id, h.line_no, h.warehouse, h.quantity) for h in sold],
        [(ids.SHIPMENT.parse(p), label["warehouse"]) for p, label in zip(made, parcels,
                                                                          strict=True)]))
    return made


def add_claim(ctx: Context, tx: Tx, shipment: Shipment, kind: ClaimKind, value: int,
              compensation: str, compensated: int, details: dict[str, Any], actor: str,
              now: datetime) -> Claim:
    """Record a claim whose buyer side is settled, with its history row."""
    if claim_open_for(tx.store.sql, shipment.id):
        raise GuardRejected("shipment", shipment.public_id, shipment.state.value, "claim",
                            "a claim for this parcel is already open")
    claim = Claim(id=0, shipment_id=shipment.id, order_id=shipment.order_id, kind=kind,
                  state=ClaimState.BUYER_COMPENSATED, version=1, goods_value=value,
                  created_at=now, compensation=compensation, compensated=compensated,
                  details=details)
    pipeline.record(ctx, tx, [pipeline.create(ctx, tx, CLAIM, claim, actor, {
        "kind": kind.value, "shipment": shipment.public_id, "compensation": compensation,
        "compensated": compensated, "goods_value": value, **details}, now)])
    return claim


def close_if_settled(ctx: Context, tx: Tx, order_id: int, actor: str, reason: str,
                     now: datetime) -> None:
    """A shipped order whose parcels are all delivered or settled ends completed."""
    order = tx.store.get_order(order_id)
    if order.state is OrderState.SHIPPED and shipments.open_parcels(tx.store, order_id) == 0:
        orders.fire(ctx, tx, order, "close", actor, {"reason": reason}, now=now)


def fire_claim(ctx: Context, claim_id: int, trigger: str, actor: str,
               params: dict[str, Any]) -> Claim:
    """File the claim with the carrier, record its payout or rejection, or close it."""
    if trigger not in CLAIM_LIFECYCLE.triggers:
        raise InvalidInput({"trigger": f"expected one of {', '.join(CLAIM_LIFECYCLE.triggers)}"
                                       f" (got {trigger!r})"})
    checked = parse(ClaimParams, params).model_dump(exclude_none=True)
    now = ctx.clock.now()
    with ctx.tx() as tx:
        claim = get_claim(tx, claim_id)
        fire(ctx, tx, claim, trigger, actor, checked, now=now)
        return claim


def fire(ctx: Context, tx: Tx, claim: Claim, trigger: str, actor: str,
         params: dict[str, Any], *, now: datetime) -> Fired:
    """The one path every claim transition takes; `now`: the calling service's clock read."""
    return pipeline.fire(ctx, tx, CLAIM, claim, trigger, actor, params, now)


def get_claim(tx: Tx, claim_id: int) -> Claim:
    return tx.store.get_claim(claim_id)


def claims_view(tx: Tx, state: str | None = None, order_id: int | None = None,
                claim_id: int | None = None) -> list[dict]:
    return [claim_view(tx, row) for row in claim_rows(tx.store.sql, state, order_id, claim_id)]


def claim_view(tx: Tx, row: tuple) -> dict[str, Any]:
    view = dict(zip(CLAIM_COLS.split(", "), row, strict=True))
    view.update(id=ids.CLAIM(row[0]), shipment_id=ids.SHIPMENT(row[1]), order_id=ids.ORDER(row[2]),
                details=tx.store.sql.doc(row[11]), created_at=tx.store.sql.when(row[12]))
    return view


def _line(order: Order, line_no: int) -> Any:
    return next(ln for ln in order.lines if ln.line_no == line_no)
