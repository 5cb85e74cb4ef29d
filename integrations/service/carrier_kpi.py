"""Carrier scorecard over a period: on-time, loss, stall and complaint rates per carrier.

The rates are the ones carrier selection reads (the KPI job: service/carriers.refresh_kpis),
defined once in statemachine/carrier_kpi.py; the scorecard adds the stall rate. A parcel counts
in the period it was handed over (label created), promises judged as of now. The bottom 10% of
carriers by on-time rate (at least one, when there are two or more) are flagged for a talk with
the account manager; a carrier with no promise come due yet is never flagged. A carrier is one
carrier whatever the case its name was typed in (`sf` on a typed parcel is the catalogue's `SF`:
statemachine/waybills.py).
"""

from __future__ import annotations

import math
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from integrations.service.carriers import carrier_counts
from integrations.service.context import Context
from statemachine.carrier_kpi import KpiCounts


class CarrierKpi(BaseModel):
    model_config = ConfigDict(frozen=True)
    carrier: str
    parcels: int
    on_time_rate: float | None  # None: nothing to count yet (statemachine/carrier_kpi.py)
    loss_rate: float | None
    stall_rate: float | None
    complaint_rate: float | None
    flagged: bool = False


def carrier_kpis(ctx: Context, start: datetime, end: datetime) -> list[CarrierKpi]:
    """KPIs per carrier for parcels handed over in [start, end), worst on-time rate first."""
    with ctx.tx(readonly=True) as tx:
        counts = carrier_counts(tx, start, end, ctx.clock.now(), ctx.settings.fulfilment.carriers)
    kpis = sorted((_kpi(c, k) for c, k in counts.items()), key=_worst_first)
    scored = sum(k.on_time_rate is not None for k in kpis)
    flag = math.ceil(0.1 * scored) if scored >= 2 else 0
    return [k.model_copy(update={"flagged": i < flag}) for i, k in enumerate(kpis)]


def _worst_first(k: CarrierKpi) -> tuple[bool, float, float, str]:
    unknown = k.on_time_rate is None  # after every scored carrier
    return (unknown, k.on_time_rate or 0.0, -(k.loss_rate or 0.0), k.carrier)


def _kpi(carrier: str, counts: KpiCounts) -> CarrierKpi:
    return CarrierKpi(carrier=carrier, parcels=counts.parcels, on_time_rate=counts.on_time_rate,
                      loss_rate=counts.loss_rate, stall_rate=counts.stall_rate,
                      complaint_rate=counts.complaint_rate)
