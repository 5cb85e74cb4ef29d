"""Carrier selection at ship time, pure: which carrier takes a parcel, and why.

Hard limits first (serves the destination, takes the weight, insures a high-value parcel up
to its value), then the promised delivery date, then the carriers' KPIs (loss, on-time,
complaints), then cost. Every decision says why, for the parcel's history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class CarrierOption:
    name: str
    regions: tuple[str, ...] = ("*",)  # cities / provinces served; "*" = everywhere
    max_weight_g: int = 30_000
    transit_days: float = 2.0
    insured_up_to: int = 0  # minor units; 0 = no insurance offered
    cost: int = 1000


@dataclass(frozen=True, slots=True)
class CarrierKpi:
    parcels: int
    on_time: float | None  # rates as statemachine/carrier_kpi.py defines them
    loss_rate: float | None
    complaint_rate: float | None


@dataclass(frozen=True, slots=True)
class ParcelNeeds:
    destination: tuple[str, ...]  # e.g. (city, province)
    weight_g: int
    value: int
    now: datetime
    promised_by: datetime
    insure_over: int


@dataclass(frozen=True, slots=True)
class Choice:
    carrier: str | None
    insured: int
    reasons: list[str]
    rejected: dict[str, str] = field(default_factory=dict)


def choose_carrier(options: Sequence[CarrierOption], needs: ParcelNeeds,
                   kpis: Mapping[str, CarrierKpi]) -> Choice:
    """The best carrier that can take the parcel (carrier None: none can, see `rejected`)."""
    rejected = {o.name: why for o in options if (why := _cannot_take(o, needs))}
    able = [o for o in options if o.name not in rejected]
    if not able:
        return Choice(None, 0, ["no carrier can take this parcel"], rejected)
    on_time = [o for o in able if _arrives(o, needs) <= needs.promised_by]
    late = on_time == []
    pool = on_time or sorted(able, key=lambda o: o.transit_days)[:1]
    for o in able:
        if o not in pool:
            rejected[o.name] = f"would arrive after the promised {needs.promised_by:%Y-%m-%d}"
    best = min(pool, key=lambda o: _rank(o, kpis.get(o.name)))
    insured = needs.value if needs.value > needs.insure_over else 0
    return Choice(best.name, insured, _reasons(best, needs, kpis.get(best.name), insured, late,
                                               len(pool)), rejected)


def _cannot_take(o: CarrierOption, needs: ParcelNeeds) -> str | None:
    if "*" not in o.regions and not set(needs.destination) & set(o.regions):
        return f"does not serve {', '.join(d for d in needs.destination if d)}"
    if needs.weight_g > o.max_weight_g:
        return f"{needs.weight_g} g is over its {o.max_weight_g} g limit"
    if needs.value > needs.insure_over and o.insured_up_to < needs.value:
        return f"insures up to {o.insured_up_to}, the parcel is worth {needs.value}"
    return None


def _arrives(o: CarrierOption, needs: ParcelNeeds) -> datetime:
    return needs.now + timedelta(days=o.transit_days)


def _rank(o: CarrierOption, kpi: CarrierKpi | None) -> tuple:
    loss = kpi.loss_rate if kpi and kpi.loss_rate is not None else 0.0
    on_time = kpi.on_time if kpi and kpi.on_time is not None else 1.0
    complaints = kpi.complaint_rate if kpi and kpi.complaint_rate is not None else 0.0
    return (round(loss + complaints + (1 - on_time), 3), o.cost, o.transit_days, o.name)


def _reasons(o: CarrierOption, needs: ParcelNeeds, kpi: CarrierKpi | None, insured: int,
             late: bool, pool: int) -> list[str]:
    reasons = [f"serves {', '.join(d for d in needs.destination if d)}"
               if "*" not in o.regions else "serves every destination",
               f"{needs.weight_g} g within its {o.max_weight_g} g limit"]
    arrives = f"{_arrives(o, needs):%Y-%m-%d}"
    reasons.append(f"fastest, but arrives {arrives}, after the promised "
                   f"{needs.promised_by:%Y-%m-%d}" if late else
                   f"arrives by {arrives}, promised {needs.promised_by:%Y-%m-%d}")
    if insured:
        reasons.append(f"insured for {insured} (value above {needs.insure_over})")
    if kpi and kpi.parcels:
        reasons.append(f"KPIs over {kpi.parcels} parcels: on-time {_pct(kpi.on_time)}, "
                       f"loss {_pct(kpi.loss_rate)}, complaints {_pct(kpi.complaint_rate)}")
    if pool > 1:
        reasons.append(f"best of {pool} on KPIs, then cost ({o.cost})")
    return reasons


def _pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.1%}"
