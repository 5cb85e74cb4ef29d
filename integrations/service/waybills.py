"""One open parcel per waybill.

A carrier scan finds its parcel by carrier and tracking number, the newest parcel first
(`records.shipment_by_tracking`). A second parcel sent under the number of one still on its way
would take that parcel's scans: the first would never move and its order never be delivered.
Carriers do recycle numbers, so a number is free again once its parcel is delivered, lost or
returned to the sender.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from integrations.db import records
from integrations.service.context import Tx
from statemachine import ids
from statemachine.errors import InvalidInput
from statemachine.shipment import CLOSED
from statemachine.waybills import waybill_key


def take_turns(tx: Tx, labels: Iterable[Mapping[str, Any]]) -> None:
    """Ships naming one waybill at once take turns until commit (PostgreSQL: each read the
    other's parcel as not there yet and both were stored; SQLite's writers take turns anyway).
    After the orders' row locks, as every caller's: a turn is held only while its parcels are
    written. A batch of ships (the replay's bulk path, `order_facts`) takes every label's turn
    here in one sorted statement before its first ship: taken ship by ship, two batches
    naming the same waybills in opposite order waited on each other (PostgreSQL broke the
    circle by aborting one), and each ship paid a round trip of its own."""
    tx.store.take_turn(*(f"waybill:{waybill_key(label['carrier'])}:"
                         f"{waybill_key(label['tracking_no'])}" for label in labels))


def refuse_taken(tx: Tx, labels: Sequence[Mapping[str, Any]]) -> None:
    """InvalidInput naming `parcels` when a label's carrier and tracking number are those of a
    parcel still open; nothing is written. (Labels we number ourselves — `o-7-1`, `c-3-R1` —
    are unique by construction and need no read.)"""
    if not labels:
        return
    take_turns(tx, labels)
    open_parcels = records.open_parcels_on(
        tx.connection, sorted({label["tracking_no"] for label in labels}),
        frozenset(state.value for state in CLOSED))
    holders = {(waybill_key(p.carrier), waybill_key(p.tracking_no)): p for p in open_parcels}
    for n, label in enumerate(labels):
        holder = holders.get((waybill_key(label["carrier"]), waybill_key(label["tracking_no"])))
        if holder is not None:
            raise InvalidInput({"parcels": (
                f"parcels[{n}]: {label['carrier']} {label['tracking_no']} is the waybill of "
                f"{ids.SHIPMENT(holder.id)} ({ids.ORDER(holder.order_id)}), still "
                f"{holder.state}: one open parcel per waybill")})
