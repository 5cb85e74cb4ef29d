"""Facts the after-sales steps need about goods: what an exchange can hold or ship, the
labels of the parcels a case sends (a return label, the replacement, the repaired item), and
what claims on its return parcels refunded already (a refund's amount due: case_money.py).

The steps themselves declare what follows (statemachine/aftersales.py); these facts are read
under the order's lock, in the step's unit of work. Labels come from the caller — bought from
a carrier adapter by `fire_with_label` — or default to the order's carrier with a tracking
number of our own (`c-3-R1` return, `c-3-X1` replacement, `c-3-P1` repaired item).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from integrations.db.case_stock import CaseStock
from integrations.db.fulfil_store import FulfilStore
from integrations.service.case_money import refund_facts
from integrations.service.context import Context, Tx
from integrations.service.pipeline import Facts, Move
from integrations.service.waybills import refuse_taken
from statemachine.aftersales import TAKE_BACK, AfterSalesCase, CaseKind, Inspection
from statemachine.errors import InsufficientStock
from statemachine.stock import Allocation, Need, plan_allocation

LABELS = {"await_return": ("return", "R"), "exchange": ("replacement", "X"),
          "repair": ("repaired", "P")}


def case_facts(ctx: Context, tx: Tx, moves: Sequence[Move]) -> Facts:
    """Lock the cases' orders (siblings are decided one after another), then per move."""
    tx.store.lock_orders(sorted({m.aggregate.order_id for m in moves}))

    def facts(move: Move) -> dict[str, Any]:
        case, params = move.aggregate, dict(move.params)
        accepted = move.trigger in ("approve", "auto_approve")
        if accepted and case.kind is CaseKind.EXCHANGE:
            params.update(_plan(tx, case, _wanted(tx, case, held_counts=False)))
        elif move.trigger == "exchange":
            params.update(_plan(tx, case, _wanted(tx, case, held_counts=True)))
        if move.trigger in LABELS:
            params.update(_labels(ctx, tx, case, move.trigger, params, move.at))
        if move.trigger == "refund":
            params.update(refund_facts(tx, case))
        return params

    return facts


def replacement_shares(move: Move) -> str | None:
    """An exchange approved (its replacement held) or shipped (what was not held taken fresh)
    plans on the free stock read when its round starts, as does every other exchange's, of
    any order: in a batch each is decided after the one before is written, as single calls
    are. Before, two planned the same free units; the writer's conditional update refused
    the second (no oversell) with InsufficientStock, and the whole batch failed with it.
    A move that puts units back on the shelf (a return inspected fine, an exchange closed
    with its replacement held) shares it too: an exchange after it in the batch sees them,
    as the single call after it does (before, it was refused for want of a tee just restocked)."""
    case, trigger = move.aggregate, move.trigger
    wants = trigger == "exchange" or (trigger in ("approve", "auto_approve")
                                      and case.kind is CaseKind.EXCHANGE)
    frees = (trigger == "inspect" and TAKE_BACK.get(
        (case.kind, _inspection(move.params.get("result")))) == "restock") or (
        trigger == "close" and case.kind is CaseKind.EXCHANGE)
    return "free stock" if wants or frees else None


def _inspection(result: Any) -> Inspection | None:
    try:
        return Inspection(result)
    except ValueError:  # refused by the step itself, naming the field
        return None


def _wanted(tx: Tx, case: AfterSalesCase, held_counts: bool) -> list[Need]:
    """Units of each case line still to find (minus what is held for it, when shipping)."""
    order = tx.store.get_order(case.order_id)
    sku = {ln.line_no: ln.sku for ln in order.lines}
    held = _held(tx, case) if held_counts else {}
    return [Need(ln.line_no, sku[ln.line_no], ln.quantity - held.get(ln.line_no, 0))
            for ln in case.lines if ln.quantity > held.get(ln.line_no, 0)]


def _plan(tx: Tx, case: AfterSalesCase, needs: list[Need]) -> dict[str, Any]:
    if not needs:
        return {"replacement_plan": ()}
    try:
        plan = plan_allocation(needs, tx.stock.availability(n.sku for n in needs))
    except InsufficientStock as short:
        return {"replacement_short": [str(short)]}
    return {"replacement_plan": tuple(plan)}


def _held(tx: Tx, case: AfterSalesCase) -> dict[int, int]:
    held: dict[int, int] = {}
    for hold in FulfilStore.on(tx.store.sql).holds(case.order_id, "held"):
        held[hold.line_no] = held.get(hold.line_no, 0) + hold.quantity
    return held


def _labels(ctx: Context, tx: Tx, case: AfterSalesCase, trigger: str, params: dict[str, Any],
            at: datetime) -> dict[str, Any]:
    """The parcels the step sends: as given, or one per warehouse the goods are in."""
    purpose, mark = LABELS[trigger]
    warehouses = _warehouses(tx, case, purpose, params.get("replacement_plan") or ())
    carrier = carrier_of(ctx, tx, case)
    refuse_taken(tx, params.get("parcels") or ())
    labels = params.get("parcels") or [
        {"carrier": carrier, "tracking_no": f"{case.public_id}-{mark}{n}", "warehouse": wh}
        for n, wh in enumerate(warehouses, start=1)]
    promised = None if purpose == "return" else at + ctx.timeouts.promised_delivery
    return {"parcels": [{**label, "warehouse": label.get("warehouse") or warehouses[0]}
                        for label in labels], "promised_by": promised}


def _warehouses(tx: Tx, case: AfterSalesCase, purpose: str,
                fresh: Sequence[Allocation]) -> list[str]:
    """Where a replacement leaves from (its held and fresh units); where returns go back to
    (where the units the case takes back were sold from: `CaseStock.coming_back`, the rule
    that loads the return parcels) and repaired items leave from (where the goods were sold
    from)."""
    if purpose == "return":
        back = CaseStock(tx.store.sql).to_send_back(case)
        return sorted({hold.warehouse for hold, _ in back}) or ["unknown"]
    lines = {ln.line_no for ln in case.lines}
    status = "held" if purpose == "replacement" else "consumed"
    found = {h.warehouse for h in FulfilStore.on(tx.store.sql).holds(case.order_id, status)
             if h.line_no in lines} | {a.warehouse for a in fresh}
    return sorted(found) or ["unknown"]


def label_plan(tx: Tx, case: AfterSalesCase, trigger: str) -> list[tuple[str, int]]:
    """The parcels `trigger` sends, as the default labels would make them (one per warehouse,
    `_warehouses`), each with the value it declares: a return label its warehouse's units
    coming back, another the case's requested amount. For labels bought before the step."""
    purpose = LABELS[trigger][0]
    if purpose == "return":
        price, value = {ln.line_no: ln.amount // ln.quantity for ln in case.lines}, {}
        for hold, take in CaseStock(tx.store.sql).to_send_back(case):
            value[hold.warehouse] = value.get(hold.warehouse, 0) + take * price[hold.line_no]
        return sorted(value.items()) or [("unknown", case.requested_amount)]
    fresh = _plan(tx, case, _wanted(tx, case, held_counts=True)).get("replacement_plan") \
        if purpose == "replacement" else ()
    return [(wh, case.requested_amount) for wh in _warehouses(tx, case, purpose, fresh or ())]


def carrier_of(ctx: Context, tx: Tx, case: AfterSalesCase) -> str:
    """The carrier the order's goods went with (else the default carrier)."""
    parcels = [s for s in tx.store.shipments_of(case.order_id) if s.purpose == "order"]
    return parcels[0].carrier if parcels else ctx.settings.default_carrier
