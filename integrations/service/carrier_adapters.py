"""The carrier adapter a carrier's waybills are bought and its parcels chased through, for
callers that are not handed one (the CLI, the console, `pilot.cases.new_label`).

Until a real carrier's adapter lands it is the simulated one (`AdoptingCarrier`: a parcel
bought elsewhere is adopted, so it can be chased), on the context's clock.
"""

from __future__ import annotations

from integrations.carriers.simulated import AdoptingCarrier
from integrations.service.context import Context
from statemachine.clock import Clock
from statemachine.ports import Carrier, CarrierProfile


def carrier_adapter(ctx: Context, name: str, clock: Clock | None = None) -> Carrier:
    """The adapter for carrier `name` (its terms: the CarrierProfile defaults)."""
    return AdoptingCarrier(CarrierProfile(name), clock or ctx.clock)
