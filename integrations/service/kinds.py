"""How the application drives each lifecycle through the pipeline (see pipeline.py).

Per lifecycle: the facts its guards need that no caller supplies, what its events carry, and
what follows a written batch. Cascades between lifecycles live here, in one place:
a parcel delivered last delivers its order; a case's return parcel delivered last (the others
delivered or lost) is received by its case; a return parcel sent back to the buyer bounces
its case to a person; a case refunded refunds its order's lines. What `ship` needs and
leaves behind (its labels, the capture at shipping, which parcel carries each unit) is in
ship_steps.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from integrations.db.money_store import MoneyStore
from integrations.db.writer import Change
from integrations.service import pipeline
from integrations.service.case_goods import case_facts, replacement_shares
from integrations.service.case_money import units_to_settle
from integrations.service.context import Context, Tx
from integrations.service.packing import pack_facts
from integrations.service.pipeline import Facts, Kind, Move, Refused
from integrations.service.ship_steps import after_ship, ship_facts
from integrations.service.waybills import take_turns
from statemachine import ids
from statemachine.aftersales import CASE_LIFECYCLE, COUNTED_BY_ORDER, AfterSalesCase, CaseState
from statemachine.claim import CLAIM_LIFECYCLE, Claim
from statemachine.errors import GuardRejected
from statemachine.money import chargeback_refusal, mark_refunded, refunded_by_merchant
from statemachine.order import ORDER_LIFECYCLE
from statemachine.order_aggregate import Order, OrderState
from statemachine.shipment import SHIPMENT_LIFECYCLE, Shipment, ShipmentState

# --- orders ------------------------------------------------------------------------------------


def order_event_data(tx: Tx | None, order: Order) -> dict[str, Any]:
    """What every order event carries, so consumers rarely need to read back."""
    return {"buyer_id": order.buyer_id, "state": order.state.value, "total": order.total,
            "currency": order.currency, "paid": order.paid, "refunded": order.refunded}


def order_facts(ctx: Context, tx: Tx, moves: Sequence[Move]) -> Facts:
    """Facts an order's guards and effects need that the caller does not supply."""
    open_counts = tx.store.open_parcels([m.aggregate.id for m in moves if m.trigger in (
        "deliver", "close") and "open_parcels" not in m.params])
    packing = pack_facts(ctx, tx, [m.aggregate for m in moves if m.trigger == "pack"])
    # a batch's ships take their waybills' turns at once, sorted (waybills.take_turns)
    take_turns(tx, [label for m in moves if m.trigger == "ship"
                    for label in m.params.get("parcels") or ()])

    def facts(move: Move) -> dict[str, Any]:
        order, params = move.aggregate, dict(move.params)
        if move.trigger in ("approve", "fail_payment"):
            params["hold_until"] = move.at + ctx.timeouts.hold
            if move.trigger == "approve":  # approved with a payment on its way: it waits
                params["pay_by"] = move.at + ctx.timeouts.payment_pending
        elif move.trigger == "start_payment":
            params["pay_by"] = move.at + ctx.timeouts.payment_pending
        elif move.trigger == "pay" and params.pop("authorised_only", False):
            params["capture_by"] = move.at + ctx.timeouts.authorisation
        elif move.trigger == "revive":  # the stock it had, taken again (if still there)
            order.allocation = tuple(tx.stock.released_plan(order.id))
        elif move.trigger == "extend_hold":
            base = max(order.hold_expires_at or move.at, move.at)
            params["until"] = base + timedelta(minutes=params.pop("minutes"))
        elif move.trigger in ("deliver", "close") and "open_parcels" not in params:
            params["open_parcels"] = open_counts.get(order.id, 0)
        elif move.trigger == "pack":
            params.update(packing[order.id])
        elif move.trigger == "ship":
            params.update(ship_facts(ctx, tx, order, params, move))
        elif move.trigger in ("cancel", "reject") and order.paid > order.refunded:
            # refunds recorded and not settled yet (a case's, a goodwill one) and open
            # disputes (the bank takes the money back if lost) pay back part of what the order
            # gives back: they settle into it (order locked by the pipeline)
            reserved = MoneyStore(tx.store.sql).reserved(order.id)
            params["refunds_in_flight"], params["disputed"] = reserved.refunds, reserved.disputed
            if refunded_by_merchant(order.payment_ref):
                # money Shopify took is given back in Shopify's admin, never by our gateway: a
                # cancel or reject made here leaves it there, owed and listed, as "refund
                # later" does (the Shopify webhook says itself whether Shopify refunded it)
                params.setdefault("refund_later", True)
            if (refused := chargeback_refusal(order, reserved)) is not None \
                    and not order.attrs.get("authorisation"):
                # the provider refuses every refund of a charged-back payment (an open
                # chargeback; one lost at Stripe): the part the bank did not take is left owed
                # and listed (refunds owed, `refund_later`) — never asked of the provider, who
                # would only refuse it — for staff to refund once the dispute is won, or pay
                # outside the provider once it is lost there
                params.setdefault("refund_later", True)
                params["charged_back"] = refused
        return params

    return facts


# --- parcels -------------------------------------------------------------------------------------


def shipment_event_data(tx: Tx | None, shipment: Shipment) -> dict[str, Any]:
    return {"shipment_id": shipment.public_id, "state": shipment.state.value,
            "carrier": shipment.carrier, "tracking_no": shipment.tracking_no,
            "warehouse": shipment.warehouse}


def lock_orders(ctx: Context, tx: Tx, moves: Sequence[Move]) -> Facts:
    """A child's step may decide on its siblings (the last open parcel): its order's row is
    locked first, in id order, so two children of one order are decided one after the other."""
    tx.store.lock_orders(sorted({m.aggregate.order_id for m in moves}))
    return pipeline.no_facts


def deliver_orders(ctx: Context, tx: Tx, changes: list[Change]) -> list[Refused]:
    """An order whose last open parcel was just delivered is delivered with it."""
    latest: dict[int, Any] = {}
    for change in changes:
        if change.fired.entity == "shipment" and change.fired.moved \
                and change.fired.to_state == ShipmentState.DELIVERED:
            latest[change.order_id] = max(change.fired.at, latest.get(change.order_id,
                                                                         change.fired.at))
    if not latest:
        return []
    still_open = tx.store.open_parcels(list(latest))
    if len(latest) == 1:  # one parcel's scan (the API, a webhook): one joined read
        (number,) = latest
        orders = {number: tx.store.get_order(number)} if number not in still_open else {}
    else:
        orders = tx.store.orders(sorted(latest))
    moves = [Move(order, "deliver", latest[number], "system:carrier", {"open_parcels": 0})
             for number, order in sorted(orders.items())
             if order.state is OrderState.SHIPPED and still_open.get(number, 0) == 0]
    return pipeline.run(ctx, tx, ORDER, moves)[1]


# --- after-sales cases and claims ----------------------------------------------------------------


def case_event_data(tx: Tx, case: AfterSalesCase) -> dict[str, Any]:
    buyer = tx.store.buyer_of(case.order_id)
    return {"case_id": case.public_id, "kind": case.kind.value, "state": case.state.value,
            "buyer_id": buyer, "requested_amount": case.requested_amount,
            "refunded": case.refunded}


def refund_orders(ctx: Context, tx: Tx, changes: list[Change]) -> list[Refused]:
    """A case refunded refunds its order (within what was paid) and marks its lines refunded,
    so the same units can never be refunded twice."""
    for change in changes:
        if change.fired.entity != "case" or change.fired.trigger != "refund":
            continue
        case, fired = change.aggregate, change.fired
        order = tx.store.get_order(case.order_id)
        _mark_lines_refunded(tx, order, case)
        tx.writer.save_lines(order)
        # what the order counted already (a provider refund counted by amount, its units then
        # unknown, that turned out to be this case's) is not counted twice
        amount = case.refunded - fired.payload.get(COUNTED_BY_ORDER, 0)
        if amount > 0:
            pipeline.fire(ctx, tx, ORDER, order, "refund", fired.actor,
                          {"amount": amount, "case": case.public_id}, fired.at)
    return []


def case_shares(move: Move) -> tuple[str, int] | str | None:
    """What a case step decides on with other moves of its batch (`pipeline.rounds`)."""
    return refund_shares(move) or replacement_shares(move)


def refund_shares(move: Move) -> tuple[str, int] | None:
    """Two refunds of one order's cases decide on the same money and units left: in a batch,
    the second is decided after the first is written (refused alone if it no longer fits)."""
    return ("refund", move.aggregate.order_id) if move.trigger == "refund" else None


def _mark_lines_refunded(tx: Tx, order: Order, case: AfterSalesCase) -> None:
    """A refunded case settles its units (docs/fulfilment.md): every unit of its lines but
    those a claim on its own return parcels refunded (the claim marked them), whatever the
    amount — its amount due, or less agreed with the buyer."""
    units, by_no = units_to_settle(tx, case), {ln.line_no: ln for ln in order.lines}
    for line_no, quantity in units.items():
        left = by_no[line_no].quantity - by_no[line_no].refunded_quantity
        if quantity > left:
            raise GuardRejected("case", case.public_id, case.state.value, "refund",
                                f"line {line_no} was already refunded: {quantity} units to "
                                f"settle, {left} of {by_no[line_no].quantity} not refunded")
    mark_refunded(order, units)


def claim_event_data(tx: Tx | None, claim: Claim) -> dict[str, Any]:
    return {"claim_id": claim.public_id, "shipment_id": ids.SHIPMENT(claim.shipment_id),
            "kind": claim.kind.value, "state": claim.state.value,
            "goods_value": claim.goods_value, "claimed": claim.claimed,
            "recovered": claim.recovered}


# arrived, or never will (lost; sent back to the buyer: its case asks a person, and a new
# label carries its units if they are sent again)
RETURN_ENDED = (ShipmentState.DELIVERED, ShipmentState.LOST, ShipmentState.RETURNED_TO_SENDER)


def returns_on_the_way(tx: Tx, case_id: int, order_id: int) -> list[Shipment]:
    """The case's return parcels neither delivered to us, lost nor sent back: goods still to
    come."""
    return [s for s in tx.store.shipments_of(order_id) if s.case_id == case_id
            and s.purpose == "return" and s.state not in RETURN_ENDED]


def receive_returns(ctx: Context, tx: Tx, changes: list[Change]) -> list[Refused]:
    """A return parcel delivered to us: its case has received the goods once none of its
    return parcels is still on its way (a lost one's goods never come: its claim refunded
    them), so inspection never takes back goods still with the carrier."""
    moves, seen = [], set()
    for change in changes:
        parcel = change.aggregate
        if change.fired.entity == "shipment" and change.fired.moved and \
                change.fired.to_state == ShipmentState.DELIVERED and \
                parcel.purpose == "return" and parcel.case_id is not None \
                and parcel.case_id not in seen:
            case = tx.store.get_case(parcel.case_id)
            if case.state is CaseState.AWAITING_RETURN and \
                    not returns_on_the_way(tx, case.id, case.order_id):
                seen.add(case.id)
                moves.append(Move(case, "receive", change.fired.at, "system:carrier",
                                  {"reason": f"return parcel {parcel.public_id} delivered"}))
    return pipeline.run(ctx, tx, CASE, moves)[1] if moves else []


def bounce_returns(ctx: Context, tx: Tx, changes: list[Change]) -> list[Refused]:
    """A return parcel the carrier sent back to the buyer: its case, waiting for the goods,
    asks a person at once (`bounce_return`: its event is the alert, the after-sales SLA runs
    from now), whatever its other return parcels do — the goods will not come unless the
    buyer sends them again."""
    moves, seen = [], set()
    for change in changes:
        parcel = change.aggregate
        if change.fired.entity == "shipment" and change.fired.moved and \
                change.fired.to_state == ShipmentState.RETURNED_TO_SENDER and \
                parcel.purpose == "return" and parcel.case_id is not None \
                and parcel.case_id not in seen:
            case = tx.store.get_case(parcel.case_id)
            if case.state is CaseState.AWAITING_RETURN:
                seen.add(case.id)
                why = change.fired.payload.get("reason") or "no reason given"
                moves.append(Move(case, "bounce_return", change.fired.at, "system:carrier",
                                  {"parcel": parcel.public_id, "reason": f"return parcel "
                                   f"{parcel.public_id} sent back to the buyer: {why}"}))
    return pipeline.run(ctx, tx, CASE, moves)[1] if moves else []


def parcels_ended(ctx: Context, tx: Tx, changes: list[Change]) -> list[Refused]:
    """What follows a parcel that arrived or came back (see the functions it calls)."""
    return deliver_orders(ctx, tx, changes) + receive_returns(ctx, tx, changes) + \
        bounce_returns(ctx, tx, changes)


SHIPMENT = Kind(SHIPMENT_LIFECYCLE, order_of=lambda s: s.order_id,
                event_data=shipment_event_data, facts=lock_orders, follow_up=parcels_ended)
ORDER = Kind(ORDER_LIFECYCLE, order_of=lambda o: o.id, event_data=order_event_data,
             facts=order_facts, follow_up=after_ship, spawns=SHIPMENT,
             spawn_key="parcels")
CASE = Kind(CASE_LIFECYCLE, order_of=lambda c: c.order_id, event_data=case_event_data,
            facts=case_facts, follow_up=refund_orders, spawns=SHIPMENT, spawn_key="parcels",
            shares=case_shares)
CLAIM = Kind(CLAIM_LIFECYCLE, order_of=lambda c: c.order_id, event_data=claim_event_data,
             facts=lock_orders)
