"""Stock adjustments and warehouse transfers, each recorded with who and why.

Adjustments change `on_hand` only (never below what live holds reserve), so `reserved` still
equals the live holds and reconciliation stays clean. A transfer takes stock off the sender's
shelf at once and puts it on the receiver's when it arrives; meanwhile it is "in transit".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.db.fulfil_store import TRANSFER_COLS, FulfilStore
from integrations.service import orders
from integrations.service.context import Context, Tx
from statemachine import ids
from statemachine.errors import GuardRejected, InvalidInput, NotFound
from statemachine.order_aggregate import OrderState

ADJUSTMENT_KINDS = ("count", "damage")


def adjust_stock(ctx: Context, sku: str, warehouse: str, delta: int, kind: str, reason: str,
                 actor: str) -> int:
    """Correct a count (±) or write off damaged stock (−); returns the adjustment id."""
    _check_adjustment(delta, kind, reason)
    with ctx.tx() as tx:
        store = FulfilStore(tx.connection)
        store.adjust_on_hand(sku, warehouse, delta)
        return store.record_adjustment(sku, warehouse, delta, kind, reason, actor,
                                       ctx.clock.now())


def _check_adjustment(delta: int, kind: str, reason: str) -> None:
    problems = {}
    if kind not in ADJUSTMENT_KINDS:
        problems["kind"] = f"expected one of {', '.join(ADJUSTMENT_KINDS)} (got {kind!r})"
    if not isinstance(delta, int) or isinstance(delta, bool) or delta == 0:
        problems["delta"] = f"expected a non-zero whole number (got {delta!r})"
    elif kind == "damage" and delta > 0:
        problems["delta"] = f"a damage write-off removes stock: expected < 0 (got {delta})"
    if not isinstance(reason, str) or not 0 < len(reason.strip()) <= 500:
        problems["reason"] = "say why (1–500 characters)"
    if problems:
        raise InvalidInput(problems)


def send_transfer(ctx: Context, sku: str, source: str, dest: str, quantity: int, reason: str,
                  actor: str) -> int:
    """Move free stock from one warehouse towards another; returns the transfer id."""
    if source == dest:
        raise InvalidInput({"to_warehouse": "must differ from from_warehouse"})
    if not isinstance(quantity, int) or quantity <= 0:
        raise InvalidInput({"quantity": f"expected a positive whole number (got {quantity!r})"})
    with ctx.tx() as tx:
        if tx.stock.availability([sku]).get((sku, dest)) is None:
            tx.stock.receive(sku, dest, 0)  # the receiver gets an inventory row for the sku
        return FulfilStore(tx.connection).send_transfer(sku, source, dest, quantity, reason,
                                                        actor, ctx.clock.now())


def receive_transfer(ctx: Context, transfer_id: int, actor: str) -> dict[str, Any]:
    """Put an arrived transfer on the receiver's shelf (once); a refill's units sold to its
    order, all at one time."""
    now = ctx.clock.now()
    with ctx.tx() as tx:
        store = FulfilStore(tx.connection)
        row = store.transfer(transfer_id)
        if row is None:
            raise NotFound("transfer", ids.TRANSFER(transfer_id))
        if not store.mark_received(transfer_id, actor, now):
            raise GuardRejected("transfer", ids.TRANSFER(transfer_id), row[5], "receive",
                                f"already received by {row[9]}")
        tx.stock.receive(row[1], row[3], row[4])
        if row[11] is not None:
            _refill_arrived(ctx, tx, store, row, actor, now)
        return transfer_view(store.transfer(transfer_id), store.sql.when)


def _refill_arrived(ctx: Context, tx: Tx, store: FulfilStore, row: tuple, actor: str,
                    now: datetime) -> None:
    """A refill for a picking order arrived: its units become the order's sold stock."""
    order = tx.store.get_order(row[11])
    if order.state is not OrderState.PICKING:
        return  # cancelled meanwhile: the units simply stay on the shelf
    store.consume_from(order.id, row[12], row[1], row[3], row[4], now)
    orders.fire(ctx, tx, order, "reallocate", actor, {
        "reason": f"transfer {ids.TRANSFER(row[0])} arrived",
        "allocation": [[row[1], row[3], row[4]]]}, now=now)


def transfer_view(row: tuple, when: Any) -> dict[str, Any]:
    view = dict(zip(TRANSFER_COLS.split(", "), row, strict=True))
    view["id"] = ids.TRANSFER(view["id"])
    view["order_id"] = ids.ORDER(view["order_id"]) if view["order_id"] else None
    view["sent_at"], view["received_at"] = when(view["sent_at"]), when(view["received_at"])
    return view
