"""Carrier selection at ship time: the parcel's facts (destination, weight, value, promised
date) and the carriers' KPIs from our own parcel history go into `choose_carrier`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from integrations.db import carrier_store
from integrations.geo.region_fields import cities_or_provinces, places_table
from integrations.service.context import Context, Tx
from statemachine.carrier_choice import CarrierKpi, CarrierOption, ParcelNeeds, choose_carrier
from statemachine.carrier_kpi import KpiCounts
from statemachine.errors import GuardRejected, InvalidInput
from statemachine.order_aggregate import Order
from statemachine.waybills import carrier_names, waybill_key

CATALOGUE = "ORDERPILOT_FULFILMENT__CARRIERS"  # the setting, as the operator writes it


def check_catalogue(ctx: Context) -> None:
    """InvalidInput naming the setting if a carrier's region names no division. The first
    check in a process loads the division table (seconds): a `ship` asks before its
    transaction (orders.fire_order), so SQLite's write lock is not held meanwhile."""
    unknown = ready_catalogue(ctx)
    if unknown is not None:  # refused before any parcel goes with this catalogue
        raise InvalidInput({CATALOGUE: unknown})


def ready_catalogue(ctx: Context) -> str | None:
    """Load what carrier selection reads (the division table: seconds, once per process) and
    say why the catalogue cannot be used (None: it can). Called before a transaction that may
    select carriers (a `ship`, a bulk batch: replay.bulk.batch), so that no write lock is held
    while the table loads; pick_carrier's own check is free by then."""
    policy = ctx.settings.fulfilment
    if not policy.carriers:
        return None
    unknown = policy.unknown_region()
    if any(region != "*" for spec in policy.carriers.values() for region in spec.regions):
        places_table()  # `served` matches every region against it, Latin-script ones too
    return unknown


def pick_carrier(ctx: Context, tx: Tx, order: Order, warehouse: str,
                 params: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The carrier for the order's parcel from `warehouse`, with the reasons (recorded in the
    parcel's history); the default carrier when no catalogue is configured. `now`: the ship
    step's time (a bulk batch ships at the moves' times, not the clock's)."""
    policy = ctx.settings.fulfilment
    if not policy.carriers:
        return {"carrier": ctx.settings.default_carrier}
    check_catalogue(ctx)
    needs = _needs(ctx, tx, order, warehouse, params, now)
    options = [CarrierOption(name, served(spec.regions, needs.destination), spec.max_weight_g,
                             spec.transit_days, spec.insured_up_to, spec.cost)
               for name, spec in sorted(policy.carriers.items())]
    choice = choose_carrier(options, needs, stored_kpis(tx))
    if choice.carrier is None:
        why = "; ".join(f"{name}: {reason}" for name, reason in choice.rejected.items())
        raise GuardRejected("order", order.public_id, "packed", "ship",
                            f"no carrier can take the parcel from {warehouse} ({why})")
    picked = {"carrier": choice.carrier, "carrier_reasons": choice.reasons}
    if choice.rejected:
        picked["carriers_rejected"] = choice.rejected
    return picked | ({"insured": choice.insured} if choice.insured else {})


def _needs(ctx: Context, tx: Tx, order: Order, warehouse: str, params: dict[str, Any],
           now: datetime) -> ParcelNeeds:
    rows = carrier_store.parcel_lines(tx.store.sql, order.id, warehouse)
    price = {ln.line_no: ln.unit_price for ln in order.lines}
    return ParcelNeeds(
        destination=destination(order.attrs),
        weight_g=sum(q * w for _, q, w in rows), value=sum(q * price[n] for n, q, _ in rows),
        now=now, promised_by=params.get("promised_by") or now + ctx.timeouts.promised_delivery,
        insure_over=ctx.settings.fulfilment.insure_over)


def destination(attrs: dict[str, Any]) -> tuple[str, ...]:
    """The (city, province) a carrier's regions are matched against: as sent — unless the
    fields contradict each other (广东省 / 杭州市, held for review: risk.md), then the region
    the address was parsed to (浙江省 杭州市) and only the sent names that agree with it: a
    parcel to 杭州 is not a 广东 carrier's because its province field says 广东省."""
    sent, parsed = attrs.get("shipping_address") or {}, attrs.get("address") or {}
    names = (str(sent.get("city") or ""), str(sent.get("province") or ""))
    if not parsed.get("conflicts"):
        return names
    settled = tuple(str(parsed.get(f) or "") for f in ("city", "province"))
    agreeing = tuple(n for n, s in zip(names, settled, strict=True) if n and _bare(n) == _bare(s))
    return tuple(dict.fromkeys(n for n in (*settled, *agreeing) if n))


def _bare(name: str) -> str:
    """杭州市 and 杭州 are one name (a sent field may drop the suffix the table has)."""
    return re.sub(r"(省|市)$", "", name.strip())


def served(regions: list[str], destination: tuple[str, ...]) -> tuple[str, ...]:
    """The carrier's `regions` as the destination spells them: each destination name that
    names one of the provinces or cities a region names (杭州 serves 杭州市, 浙江 serves 浙江省,
    廣東 serves 广东省 — the division table's names, as the address parser reads them), or is
    written as one is (a Latin-script name: Hangzhou serves Hangzhou only). choose_carrier
    matches the result exactly. "*": everywhere."""
    if "*" in regions:
        return ("*",)
    places = frozenset().union(*map(cities_or_provinces, regions))
    return tuple(d for d in destination if d and (d in regions or cities_or_provinces(d) & places))


def parcel_value(tx: Tx, order: Order, warehouse: str) -> int:
    """What the order's goods shipped from `warehouse` are worth (minor units)."""
    price = {ln.line_no: ln.unit_price for ln in order.lines}
    return sum(q * price[n]
               for n, q, _ in carrier_store.parcel_lines(tx.store.sql, order.id, warehouse))


def carrier_counts(tx: Tx, start: datetime, end: datetime | None, as_of: datetime,
                   catalogue: Iterable[str]) -> dict[str, KpiCounts]:
    """The KPI counts per carrier of the parcels handed over in [start, end) (end None: to this
    day), promises judged
    as of `as_of` (statemachine/carrier_kpi.py defines them): the KPI job's and the monthly
    scorecard's. Each carrier named as `catalogue` names it (else as most of its parcels do)."""
    rows = carrier_store.kpi_counts(tx.store.sql, start, end, as_of)
    # one carrier whatever the case its name was typed in (statemachine/waybills.py), named as
    # the catalogue names it: selection looks its KPIs up by that name
    names = carrier_names({name: counts.parcels for name, counts in rows}, catalogue)
    totals: dict[str, KpiCounts] = {}
    for carrier, counts in rows:
        name = names[waybill_key(carrier)]
        totals[name] = totals.get(name, KpiCounts()) + counts
    return totals


def refresh_kpis(ctx: Context) -> dict[str, CarrierKpi]:
    """The KPI job: recompute every carrier's KPIs over the policy window and store them."""
    now = ctx.clock.now()
    with ctx.tx() as tx:
        policy = ctx.settings.fulfilment
        counts = carrier_counts(tx, now - timedelta(days=policy.kpi_days), None, now,
                                policy.carriers)
        kpis = {c: CarrierKpi(k.parcels, k.on_time_rate, k.loss_rate, k.complaint_rate)
                for c, k in counts.items()}
        carrier_store.replace_kpis(tx.store.sql, [
            {"carrier": c, "parcels": k.parcels, "on_time": k.on_time, "loss_rate": k.loss_rate,
             "complaint_rate": k.complaint_rate, "computed_at": now} for c, k in kpis.items()])
        return kpis


def stored_kpis(tx: Tx) -> dict[str, CarrierKpi]:
    """KPIs as of the last KPI job run (none before the first run)."""
    return {r[0]: CarrierKpi(*r[1:]) for r in carrier_store.stored_kpis(tx.store.sql)}


def set_weight(ctx: Context, sku: str, weight_g: int) -> None:
    with ctx.tx() as tx:
        carrier_store.set_weight(tx.store.sql, sku, weight_g)
