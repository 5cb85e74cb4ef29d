"""Carrier KPIs over a period: on-time rate, loss rate, stall rate and complaint rate.

A parcel counts in the period it was handed over (label created). On time = delivered no later
than promised. Complaints = after-sales cases opened on the orders those parcels carried.
The bottom 10% of carriers by on-time rate (at least one, when there are two or more) are
flagged for a talk with the account manager. A carrier is one carrier whatever the case its
name was typed in (`sf` on a typed parcel is the catalogue's `SF`: statemachine/waybills.py).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from integrations.db.reports import carrier_kpi_facts
from integrations.service.context import Context
from statemachine.waybills import carrier_names, waybill_key


class CarrierKpi(BaseModel):
    model_config = ConfigDict(frozen=True)
    carrier: str
    parcels: int
    on_time_rate: float
    loss_rate: float
    stall_rate: float
    complaint_rate: float
    flagged: bool = False


def carrier_kpis(ctx: Context, start: datetime, end: datetime) -> list[CarrierKpi]:
    """KPIs per carrier for parcels handed over in [start, end), worst on-time rate first."""
    with ctx.tx(readonly=True) as tx:
        parcels, stalled, complained = carrier_kpi_facts(tx.connection, start, end)
    names = carrier_names(Counter(p.carrier for p in parcels), ctx.settings.fulfilment.carriers)
    by_carrier: dict[str, list[object]] = defaultdict(list)
    for parcel in parcels:
        by_carrier[names[waybill_key(parcel.carrier)]].append(parcel)
    kpis = sorted((_kpi(c, rows, stalled, complained) for c, rows in by_carrier.items()),
                  key=lambda k: (k.on_time_rate, -k.loss_rate, k.carrier))
    flag = math.ceil(0.1 * len(kpis)) if len(kpis) >= 2 else 0
    return [k.model_copy(update={"flagged": i < flag}) for i, k in enumerate(kpis)]


def _kpi(carrier: str, rows: list, stalled: set[int], complained: set[int]) -> CarrierKpi:
    n = len(rows)
    on_time = sum(1 for r in rows if r.state == "delivered" and r.promised_by is not None
                  and r.last_scan_at is not None and r.last_scan_at <= r.promised_by)
    return CarrierKpi(carrier=carrier, parcels=n, on_time_rate=on_time / n,
                      loss_rate=sum(1 for r in rows if r.state == "lost") / n,
                      stall_rate=sum(1 for r in rows if r.id in stalled) / n,
                      complaint_rate=sum(1 for r in rows if r.order_id in complained) / n)
