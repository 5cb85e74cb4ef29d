"""What `ship` needs and leaves behind: the labels it creates parcels for (one per warehouse with
the carrier selection picked, or as given, their declared contents checked), the capture an
authorised payment takes at shipping, and which parcel carries each sold unit.

The order lifecycle's facts and follow-up (kinds.py) call these; `shipments.py` prices labels
with `ship_facts` before buying them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from integrations.db.fulfil_store import FulfilStore
from integrations.db.money_store import MoneyStore
from integrations.db.writer import Change
from integrations.service.carriers import pick_carrier
from integrations.service.context import Context, Tx
from integrations.service.money_requests import key_for, request
from integrations.service.pipeline import Move, Refused
from integrations.service.waybills import refuse_taken
from statemachine.errors import InvalidInput
from statemachine.fulfilment import contents_problems, parcel_loads
from statemachine.money import OperationKind, OperationStatus
from statemachine.order_aggregate import Order


def ship_facts(ctx: Context, tx: Tx, order: Order, params: dict[str, Any],
               move: Move) -> dict[str, Any]:
    """The labels `ship` creates parcels for: as given, or one per warehouse the order's
    stock came from with the carrier selected for it (and why); the promised date."""
    holds = tx.stock.holds_of([order.id], status=None)  # one read: sold and other holds
    labels = params.get("parcels")
    refuse_taken(tx, labels or ())
    if not labels:
        sold = sorted({h.warehouse for h in holds if h.status == "consumed"})
        labels = [{**pick_carrier(ctx, tx, order, wh, params, move.at), "warehouse": wh,
                   "tracking_no": f"{order.public_id}-{n}"} for n, wh in enumerate(sold, 1)]
    warehouses = sorted({h.warehouse for h in holds})
    fallback = warehouses[0] if warehouses else "unknown"
    labels = [{**label, "warehouse": label.get("warehouse") or fallback} for label in labels]
    return {**_capture_failure(tx, order), "parcels": _declared_contents(tx, order, labels),
            "promised_by": params.get("promised_by") or move.at
            + ctx.timeouts.promised_delivery  # + days a farther warehouse adds (placement)
            + timedelta(days=order.attrs.get("promise_extra_days") or 0)}


def _declared_contents(tx: Tx, order: Order, labels: list[dict[str, Any]]
                       ) -> list[dict[str, Any]]:
    """Labels that declare what their box holds (`lines`) account for every sold unit once
    (InvalidInput naming the field, nothing written); a line's units are from the box's
    warehouse unless it names another, written out so the parcel's history says which."""
    if all(label.get("lines") is None for label in labels):
        return labels
    labels = [{**label, "lines": [{**ln, "warehouse": ln.get("warehouse") or label["warehouse"]}
                                  for ln in label["lines"]]} if "lines" in label else label
              for label in labels]
    sold = FulfilStore.on(tx.store.sql).untagged_sold([order.id]).get(order.id, [])
    problems = contents_problems([(h.line_no, h.warehouse, h.quantity) for h in sold],
                                 [_declared(label) for label in labels])
    if problems:
        raise InvalidInput(problems)
    return labels


def _declared(label: dict[str, Any]) -> list[tuple[int, str, int]] | None:
    """What a label says its box holds (line_no, warehouse, quantity), None: it does not say."""
    lines = label.get("lines")
    return None if lines is None else [(ln["line_no"], ln["warehouse"], ln["quantity"])
                                       for ln in lines]


def _capture_failure(tx: Tx, order: Order) -> dict[str, Any]:
    """An order paid on an authorisation whose capture already failed for good (the sweep's
    capture before it lapsed): `ship` must not send goods for money it cannot take."""
    held = order.authorisation
    if not held:
        return {}
    failed = [op for op in MoneyStore(tx.store.sql).of_order(order.id)
              if op.kind is OperationKind.CAPTURE and op.status is OperationStatus.FAILED
              and op.payment_ref == held["payment_ref"]]
    return {"capture_failed": failed[-1].error or "refused"} if failed else {}


def capture_shipped(ctx: Context, tx: Tx, changes: list[Change]) -> list[Refused]:
    """Capture at shipping: an order shipped on an authorisation has its capture recorded in
    the ship's own transaction (made after commit; the money sweep retries it)."""
    for change in changes:  # the batch also holds the parcels the ships created
        if change.fired.entity != "order" or change.fired.trigger != "ship":
            continue
        order = change.aggregate
        if held := order.authorisation:
            key = key_for(tx, f"capture:{order.public_id}", order.id)
            request(ctx, tx, order, OperationKind.CAPTURE, held["amount"], key,
                    "system:ship", payment_ref=held["payment_ref"], at=change.fired.at)
    return []


def load_labelled(ctx: Context, tx: Tx, changes: list[Change]) -> list[Refused]:
    """A `ship` whose labels declare what their boxes hold, or whose parcels are not one per
    warehouse its goods were sold from (labels of your own: two boxes from one warehouse, one
    label for two), tags each sold unit with the parcel that carries it (`parcel_loads`: the
    declared lines, else a warehouse's units shared out in even blocks); one parcel per
    warehouse declaring nothing needs no tag (its goods are its warehouse's,
    claims.parcel_goods)."""
    shipped = {change.order_id: change.fired.spawned for change in changes
               if change.fired.entity == "order" and change.fired.trigger == "ship"}
    if not shipped:
        return []
    store = FulfilStore(tx.connection)
    for order_id, sold in store.untagged_sold(list(shipped)).items():
        parcels = [(p.id, p.warehouse) for p in shipped[order_id]]
        declared = {p.id: _declared(p.step_payload) for p in shipped[order_id]}
        contents = None if None in declared.values() else declared
        if contents or sorted(wh for _, wh in parcels) != sorted({h.warehouse for h in sold}):
            store.load_parcels(parcel_loads(
                [(h.id, h.line_no, h.warehouse, h.quantity) for h in sold], parcels, contents))
    return []


def after_ship(ctx: Context, tx: Tx, changes: list[Change]) -> list[Refused]:
    return capture_shipped(ctx, tx, changes) + load_labelled(ctx, tx, changes)
