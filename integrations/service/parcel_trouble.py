"""Parcels that go wrong. The buyer is compensated first, in the same transaction that opens
the claim; the claim against the carrier is then tracked on its own (`claims.fire_claim`).

- lost (carrier confirms, or a stalled parcel stays silent too long): refund or reship
  (policy), the claim is filed for the goods' value;
- damaged on delivery: the buyer's report with photos opens an after-sales case of the right
  kind, and a claim against the carrier;
- returned to sender: inspected on arrival, back on the shelf (ok) or written off (damaged);
  the buyer is refunded or the goods reshipped (policy); the order ends consistent.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from integrations.db.fulfil_store import FulfilStore
from integrations.db.money_store import MoneyStore
from integrations.service import aftersales, claims, kinds, money, shipments
from integrations.service.context import Context, Tx
from integrations.service.inputs import OpenCase, parse
from statemachine import ids
from statemachine.aftersales import CaseKind, CaseState
from statemachine.claim import Claim, ClaimKind
from statemachine.errors import GuardRejected, InvalidInput, InvalidTransition, OrderPilotError
from statemachine.shipment import SHIPMENT_LIFECYCLE, ShipmentState

log = logging.getLogger(__name__)


def report_lost(ctx: Context, shipment_id: int, reason: str, actor: str,
                settle: str | None = None) -> Claim:
    """Mark the parcel lost (if not yet), compensate the buyer and file the carrier claim."""
    now = ctx.clock.now()  # of the loss, the claim and the compensation paid out
    with ctx.tx() as tx:
        claim = _lost(ctx, tx, shipment_id, reason, actor, settle, now)
    money.execute_pending(ctx, claim.order_id, now)  # pay the compensation out, after commit
    return claim


def lose_stalled(ctx: Context, shipment_id: int, reason: str, actor: str) -> Claim:
    """`report_lost` for a person answering a stalled parcel's form: refused (InvalidTransition,
    nothing written) when the parcel is moving again — a scan came after the form was shown, so
    the stall it answers is over (a chase is refused alike). One the carrier reported lost
    meanwhile is compensated, as the form asks."""
    now = ctx.clock.now()  # of the loss, the claim and the compensation paid out
    with ctx.tx() as tx:
        shipment = tx.store.get_shipment(shipment_id, lock=True)
        if shipment.state not in (ShipmentState.STALLED, ShipmentState.LOST):
            raise InvalidTransition("shipment", shipment.public_id, shipment.state.value,
                                    "declare_lost", SHIPMENT_LIFECYCLE.allowed(shipment.state))
        claim = _lost(ctx, tx, shipment_id, reason, actor, None, now)
    money.execute_pending(ctx, claim.order_id, now)
    return claim


def _lose_if_still_silent(ctx: Context, shipment_id: int, since: datetime, reason: str,
                          actor: str, now: datetime) -> Claim | None:
    """`report_lost` for the watch, whose list was read before: only if the parcel is still
    stalled with no scan after `since`, checked under its lock (None, nothing written, when a
    scan set it moving meanwhile: it is not lost, and its buyer must not be refunded)."""
    with ctx.tx() as tx:
        if not _still_silent(tx, shipment_id, since):
            return None
        claim = _lost(ctx, tx, shipment_id, reason, actor, None, now)
    money.execute_pending(ctx, claim.order_id, now)
    return claim


def _still_silent(tx: Tx, shipment_id: int, since: datetime) -> bool:
    """The watch's reason to declare the parcel lost still holds: stalled, no scan since."""
    shipment = tx.store.get_shipment(shipment_id, lock=True)
    return shipment.state is ShipmentState.STALLED and \
        (shipment.last_scan_at or shipment.created_at) <= since


def _lost(ctx: Context, tx: Tx, shipment_id: int, reason: str, actor: str,
          settle: str | None, now: datetime) -> Claim:
    """The parcel lost, its buyer compensated, its claim filed: every row at `now`."""
    shipment = tx.store.get_shipment(shipment_id, lock=True)
    was = shipment.state  # a refusal below rolls `lose` back: it names this state
    if shipment.state is not ShipmentState.LOST:
        shipments.fire(ctx, tx, shipment, "lose", actor, {"reason": reason}, now=now)
    order, store = tx.store.get_order(shipment.order_id), FulfilStore(tx.connection)
    goods = claims.parcel_goods(store, order, shipment, was)
    value = claims.goods_value(order, goods)
    for hold in goods:
        store.split_hold(hold, hold.quantity, "lost")
    returning = shipment.purpose == "return"  # the buyer's goods on their way back to us
    how, paid, details = _compensate(ctx, tx, order, shipment, goods, actor, "refund"
                                     if returning else settle or
                                     ctx.settings.fulfilment.lost_parcel, reason, now)
    claim = claims.add_claim(ctx, tx, shipment, ClaimKind.LOST, value, how, paid,
                             {**details, "reason": reason}, actor, now)
    claims.fire(ctx, tx, claim, "file", actor, {"amount": value}, now=now)
    if returning:
        _close_return_case(ctx, tx, shipment, claim, actor, now)
    claims.close_if_settled(ctx, tx, order.id, actor, f"parcel {shipment.public_id} lost; "
                                                      f"buyer compensated by {how}", now)
    return claim


def _close_return_case(ctx: Context, tx: Tx, shipment: Any, claim: Claim, actor: str,
                       now: datetime) -> None:
    """The case whose return parcel was lost waits while another of its return parcels is
    on its way; then it is received if one of them arrived (inspection takes back only what
    came; its refund is what is due), else closed: the claim's refund settled it, and it
    cannot take back or refund those goods again (docs/fulfilment.md)."""
    if shipment.case_id is None:
        return
    case = tx.store.get_case(shipment.case_id, lock=True)
    if case.state is not CaseState.AWAITING_RETURN or \
            kinds.returns_on_the_way(tx, case.id, case.order_id):
        return
    came = [s.public_id for s in tx.store.shipments_of(case.order_id) if s.case_id == case.id
            and s.purpose == "return" and s.state is ShipmentState.DELIVERED]
    why = f"return parcel {shipment.public_id} lost: refunded by claim {claim.public_id}"
    held = MoneyStore(tx.store.sql).reserved(case.order_id).chargebacks
    if held:  # the claim's refund is owed, not paid: the provider refuses it until they close
        why += (f" (its refund held until chargeback {', '.join(held)} closes: the money sweep "
                "pays it then)")
    if came:
        aftersales.fire(ctx, tx, case, "receive", actor,
                        {"reason": f"{why}; {', '.join(came)} delivered"}, now=now)
    else:
        aftersales.fire(ctx, tx, case, "close", actor, {"reason": why}, now=now)


def _compensate(ctx: Context, tx: Tx, order: Any, shipment: Any, goods: list, actor: str,
                settle: str, why: str, now: datetime) -> tuple[str, int, dict[str, Any]]:
    """Reship if asked and stock allows, else refund; returns (how, refunded, details)."""
    details: dict[str, Any] = {"goods": [[h.sku, h.warehouse, h.quantity] for h in goods]}
    if settle == "reship":
        parcels = claims.reship_goods(ctx, tx, order, shipment, goods, actor, now)
        if parcels is not None:
            return "reship", 0, {**details, "replacement": parcels}
        details["reship_failed"] = "no stock to reship: refunded instead"
    refunded = claims.refund_goods(ctx, tx, order, shipment, goods, actor,
                                   f"parcel {shipment.public_id}: {why}", now)
    return "refund", refunded, details


def lose_silent_parcels(ctx: Context, now: datetime, actor: str = "system:logistics-watch"
                        ) -> list[str]:
    """Declare lost every stalled parcel with no scan for the policy's silence; claims opened.
    A parcel scanned since the list was read is left alone. One whose loss is refused (a box
    `ship` dealt no units to) is logged and left to a person: it must not keep the parcels
    after it from their claims, run after run."""
    silence = timedelta(hours=ctx.settings.fulfilment.lost_after_stalled_hours)
    with ctx.tx(readonly=True) as tx:
        silent = tx.store.silent_stalled_parcels(now - silence)
    opened = []
    for shipment_id in silent:
        try:
            claim = _lose_if_still_silent(ctx, shipment_id, now - silence,
                                          f"no carrier scan for {silence} after a stall", actor,
                                          now)
        except OrderPilotError as refused:
            log.warning("parcel %s silent for %s, not declared lost (settle it by hand): %s",
                        ids.SHIPMENT(shipment_id), silence, refused)
            continue
        if claim is not None:
            opened.append(claim.public_id)
    return opened


def report_damaged(ctx: Context, shipment_id: int, lines: list[dict[str, int]],
                   photos: list[str], reason: str, wants: str, actor: str) -> dict[str, str]:
    """The buyer's damage report: an after-sales case of the right kind plus a carrier claim."""
    if not photos:
        raise InvalidInput({"photos": "at least one photo of the damage is needed"})
    request = parse(OpenCase, {"kind": "refund_only", "lines": lines, "reason": reason})
    now = ctx.clock.now()  # the case's and the claim's
    with ctx.tx() as tx:  # the case and the claim open together or not at all
        shipment = tx.store.get_shipment(shipment_id, lock=True)
        order = tx.store.get_order(shipment.order_id)
        if shipment.state is not ShipmentState.DELIVERED:
            raise GuardRejected("shipment", shipment.public_id, shipment.state.value,
                                "report_damage", "only a delivered parcel can arrive damaged")
        value = sum(ln.quantity * _price(order, ln.line_no) for ln in request.lines)
        kind = _damage_case_kind(ctx, value, wants)
        case_id = aftersales.add_case(ctx, tx, order.id,
                                      request.model_copy(update={"kind": kind}), actor, now)
        claim = claims.add_claim(ctx, tx, shipment, ClaimKind.DAMAGED, value, "case", 0,
                                 {"case": ids.CASE(case_id), "photos": photos,
                                  "reason": reason}, actor, now)
        claims.fire(ctx, tx, claim, "file", actor, {"amount": value}, now=now)
    return {"case": ids.CASE(case_id), "claim": claim.public_id, "kind": kind.value}


def _damage_case_kind(ctx: Context, value: int, wants: str) -> CaseKind:
    if wants not in ("refund", "exchange"):
        raise InvalidInput({"wants": f"expected refund or exchange (got {wants!r})"})
    if wants == "exchange":
        return CaseKind.EXCHANGE
    cheap = value < ctx.settings.fulfilment.damage_refund_only_under
    return CaseKind.REFUND_ONLY if cheap else CaseKind.RETURN_REFUND


def _price(order: Any, line_no: int) -> int:
    found = next((ln.unit_price for ln in order.lines if ln.line_no == line_no), None)
    if found is None:
        raise InvalidInput({"lines": f"order {order.public_id} has no line {line_no}"})
    return found


def receive_return(ctx: Context, shipment_id: int, result: str, notes: str | None,
                   actor: str, settle: str | None = None) -> Claim:
    """A parcel back from the carrier: restock (ok) or write off (damaged), settle the buyer."""
    if result not in ("ok", "damaged"):
        raise InvalidInput({"result": f"expected ok or damaged (got {result!r})"})
    now = ctx.clock.now()  # of the goods taken back, the compensation, the claim, its steps
    with ctx.tx() as tx:
        shipment = tx.store.get_shipment(shipment_id, lock=True)
        if shipment.state is not ShipmentState.RETURNED_TO_SENDER:
            raise GuardRejected("shipment", shipment.public_id, shipment.state.value,
                                "receive_return", "the carrier has not returned this parcel")
        if shipment.purpose == "return":  # its sender is the buyer: the goods are with them
            raise GuardRejected("shipment", shipment.public_id, shipment.state.value,
                                "receive_return", "a return parcel the carrier sent back went "
                                "to the buyer, not to us: its case "
                                f"{ids.CASE(shipment.case_id or 0)} is answered instead (a new "
                                "return label: await_return, or close)")
        order, store = tx.store.get_order(shipment.order_id), FulfilStore(tx.connection)
        goods = claims.parcel_goods(store, order, shipment)
        value = claims.goods_value(order, goods)
        _take_back(tx, store, goods, result, notes, actor, order.id, now)
        how, paid, details = _compensate(ctx, tx, order, shipment, goods, actor,
                                         settle or ctx.settings.fulfilment.returned_parcel,
                                         "returned to sender", now)
        claim = claims.add_claim(ctx, tx, shipment, ClaimKind.RETURNED, value, how, paid,
                                 {**details, "inspection": result, "notes": notes}, actor, now)
        if result == "damaged":
            claims.fire(ctx, tx, claim, "file", actor, {"amount": value}, now=now)
        else:
            claims.fire(ctx, tx, claim, "close", actor, {"reason": "returned intact, restocked"},
                        now=now)
        claims.close_if_settled(ctx, tx, order.id, actor, f"parcel {shipment.public_id} "
                                                          f"returned; settled by {how}", now)
    money.execute_pending(ctx, claim.order_id, now)  # pay the compensation out, after commit
    return claim


def _take_back(tx: Tx, store: FulfilStore, goods: list, result: str, notes: str | None,
               actor: str, order_id: int, now: datetime) -> None:
    for hold in goods:
        if result == "ok":
            store.split_hold(hold, hold.quantity, "returned")
            tx.stock.receive(hold.sku, hold.warehouse, hold.quantity)
        else:
            store.split_hold(hold, hold.quantity, "written_off")
            store.record_adjustment(hold.sku, hold.warehouse, -hold.quantity,
                                    "return_write_off", notes or "returned parcel damaged",
                                    actor, now, order_id)
