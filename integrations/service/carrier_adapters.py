"""The carrier adapter a carrier's waybills are bought and its parcels chased through, for
callers that are not handed one (the CLI, the console, `pilot.cases.new_label`).

Until a real carrier's adapter lands it is the simulated one (`AdoptingCarrier`: a parcel
bought elsewhere is adopted, so it can be chased), on the context's clock, numbering its
waybills from the store's counter: each CLI command is a process of its own, and one numbering
from 1 in each handed two commands the same number (a carrier scan of it then found the newer
parcel, and the second label for a parcel still open was refused).
"""

from __future__ import annotations

from integrations.carriers.simulated import AdoptingCarrier, waybill_prefix
from integrations.db import carrier_store
from integrations.service.contention import retrying
from integrations.service.context import Context
from statemachine.clock import Clock
from statemachine.ports import Carrier, CarrierProfile


def carrier_adapter(ctx: Context, name: str, clock: Clock | None = None) -> Carrier:
    """The adapter for carrier `name` (its terms: the CarrierProfile defaults), counting in its
    numbers' space: the counter is the prefix's, not the name's ("SF" and "sf" both number
    SF-0000001, …: one count, or both hand out the same waybill)."""
    return AdoptingCarrier(CarrierProfile(name), clock or ctx.clock,
                           numbers=lambda: next_waybill_no(ctx, waybill_prefix(name)))


@retrying("numbering a waybill")
def next_waybill_no(ctx: Context, prefix: str) -> int | None:
    """The next waybill number under `prefix` on this store, committed at once (a number given
    to a label never used is not given again: gaps, never repeats); None: all were given."""
    with ctx.tx() as tx:
        return carrier_store.next_waybill_no(tx.store.sql, prefix)
