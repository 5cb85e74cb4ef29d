"""The replay report, read back from the store: what the product did and decided.

Late and stalled parcels are counted from the stall transitions the product's own timers fired
(promised delivery → "late"; scan silence or pickup → "stalled"). A parcel that is already
stalled when its promise passes gets no promised-delivery timer (the product keeps one alert per
parcel), so `late_unflagged_already_stalled` counts the deliveries the store shows past their
`promised_by` that no timer flagged. The source file's verdict (delivered after the estimated
date) is shown beside it only as a check, under `source_says`.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from integrations.db.replay_store import ReplayStore
from integrations.replay.drivers import BaseDriver
from integrations.replay.olist import Skipped, Timeline
from integrations.service.carriers import carrier_counts
from integrations.service.context import Context
from integrations.service.sweep import STALL_REASONS
from statemachine.carrier_kpi import KpiCounts
from statemachine.policies import DeadlineKind
from statemachine.waybills import carrier_names, waybill_key

EVER = datetime(1970, 1, 1, tzinfo=UTC)  # before any parcel a replay hands over
LATE_REASON = STALL_REASONS[DeadlineKind.PROMISED_DELIVERY]
STAGES = (("placed→paid", "created", "paid"), ("paid→shipped", "paid", "shipped"),
          ("shipped→delivered", "shipped", "delivered"), ("placed→delivered", "created",
                                                           "delivered"))


class Report(BaseModel):
    path: str
    rows_read: int
    rows_replayed: int
    orders_by_state: dict[str, int]
    parcels_by_state: dict[str, int]
    transitions_applied: int
    transitions_by_trigger: dict[str, int]
    impossible_transitions: int
    payments_after_deadline: int  # the order had expired by the shop's own payment deadline
    other_errors: int
    failures: list[dict[str, str]]
    skipped: dict[str, int]
    skipped_examples: dict[str, list[str]]
    late_deliveries_flagged: int
    late_unflagged_already_stalled: int
    promised_missed_not_delivered: int
    stalls_flagged: int
    parcels_stalled: int
    sweeps: dict[str, int]
    median_hours: dict[str, float | None]
    carriers: dict[str, dict[str, Any]]
    source_says: dict[str, int]
    wall_seconds: float
    orders_per_second: float
    transitions_per_second: float
    path_used: str


def build_report(ctx: Context, path: str, timelines: list[Timeline], skipped: list[Skipped],
                 driver: BaseDriver, sweeps: Counter[str], wall: float, path_used: str) -> Report:
    """Everything the replay report shows, from the store and the driver's failure list."""
    by_state, parcels, history, stalls = _read(ctx)
    kpis = _kpis(ctx)
    flags = _flags(parcels, stalls, history)
    applied = Counter(f"{h.entity}.{h.trigger}" for h in history)
    total = sum(applied.values())
    return Report(
        path=path,
        rows_read=len(timelines) + len(skipped), rows_replayed=len(timelines),
        orders_by_state=by_state, parcels_by_state=dict(Counter(p.state for p in parcels)),
        transitions_applied=total, transitions_by_trigger=dict(applied.most_common()),
        impossible_transitions=sum(f.impossible for f in driver.failures),
        payments_after_deadline=sum(f.late for f in driver.failures),
        other_errors=sum(not f.impossible and not f.late for f in driver.failures),
        failures=[{"ref": f.ref, "trigger": f.trigger, "error": f.error}
                  for f in driver.failures[:50]],
        skipped=dict(Counter(s.reason for s in skipped).most_common()),
        skipped_examples=_examples(skipped), **flags["totals"], sweeps=dict(sweeps),
        median_hours=_medians(history), carriers=_carriers(ctx, parcels, history, flags, kpis),
        source_says=_source(timelines, driver), wall_seconds=round(wall, 2),
        orders_per_second=round(len(timelines) / wall, 1) if wall else 0.0,
        transitions_per_second=round(total / wall, 1) if wall else 0.0, path_used=path_used)


def _read(ctx: Context) -> tuple[dict[str, int], list[Any], list[Any], list[Any]]:
    """Final states, parcels, the whole history (no payloads) and the stall rows."""
    with ctx.tx(readonly=True) as tx:
        return ReplayStore(tx.connection).report_rows()


def _kpis(ctx: Context) -> dict[str, KpiCounts]:
    """Every parcel's carrier KPIs as selection reads them (statemachine/carrier_kpi.py),
    promises judged as of the replay's clock."""
    with ctx.tx(readonly=True) as tx:
        return carrier_counts(tx, EVER, None, ctx.clock.now(), ctx.settings.fulfilment.carriers)


def _flags(parcels: list[Any], stalls: list[Any], history: list[Any]) -> dict[str, Any]:
    late = {s.entity_id for s in stalls if (s.payload or {}).get("reason") == LATE_REASON}
    stalled = {s.entity_id for s in stalls if (s.payload or {}).get("reason") != LATE_REASON}
    stalls = [s for s in stalls if s.trigger == "stall"]
    state = {p.id: p.state for p in parcels}
    late_orders = {p.order_id for p in parcels if p.id in late}
    delivered_late = {p.order_id for p in parcels if p.id in late and state[p.id] == "delivered"}
    delivered_at = {h.entity_id: h.at for h in history
                    if h.entity == "shipment" and h.trigger == "deliver"}
    past_promise = {p.order_id for p in parcels if p.id in delivered_at and p.promised_by
                    and _utc(delivered_at[p.id]) > _utc(p.promised_by) and p.id not in late
                    and p.id in stalled}
    return {"late": late, "stalled": stalled, "totals": {
        "late_deliveries_flagged": len(delivered_late),
        "late_unflagged_already_stalled": len(past_promise - delivered_late),
        "promised_missed_not_delivered": len(late_orders - delivered_late),
        "stalls_flagged": sum((s.payload or {}).get("reason") != LATE_REASON for s in stalls),
        "parcels_stalled": len(stalled)}}


def _medians(history: list[Any]) -> dict[str, float | None]:
    reached: dict[int, dict[str, datetime]] = defaultdict(dict)
    for h in history:
        if h.entity == "order":
            reached[h.entity_id].setdefault(h.to_state, h.at)
    out: dict[str, float | None] = {}
    for name, start, end in STAGES:
        spans = [(r[end] - r[start]).total_seconds() / 3600 for r in reached.values()
                 if start in r and end in r]
        out[name] = round(statistics.median(spans), 1) if spans else None
    return out


def _carriers(ctx: Context, parcels: list[Any], history: list[Any], flags: dict[str, Any],
              kpis: dict[str, KpiCounts]) -> dict[str, dict[str, Any]]:
    """Per carrier (named as its KPIs are): the KPI rates carrier selection reads, beside what
    the timers flagged (late_pct: parcels the promised-delivery timer stalled — an alert count,
    not 100 - on_time_pct) and the scans and median transit."""
    picked, delivered, scans = {}, {}, Counter()
    for h in history:
        if h.entity == "shipment":
            if h.trigger == "pick_up":
                picked.setdefault(h.entity_id, h.at)
            elif h.trigger == "deliver":
                delivered[h.entity_id] = h.at
            elif h.trigger == "scan":
                scans[h.entity_id] += 1
    names = carrier_names(Counter(p.carrier for p in parcels), ctx.settings.fulfilment.carriers)
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(set(names.values())):
        ids = [p.id for p in parcels if names[waybill_key(p.carrier)] == name]
        transit = [(delivered[i] - picked[i]).total_seconds() / 3600 for i in ids
                   if i in delivered and i in picked]
        rates = kpis.get(name, KpiCounts())
        out[name] = {"parcels": len(ids), "delivered": len(transit),
                     "on_time_pct": _rate(rates.on_time_rate),
                     "loss_pct": _rate(rates.loss_rate),
                     "complaint_pct": _rate(rates.complaint_rate),
                     "late_flagged": sum(i in flags["late"] for i in ids),
                     "stalled": sum(i in flags["stalled"] for i in ids),
                     "late_pct": _pct(sum(i in flags["late"] for i in ids), len(ids)),
                     "stalled_pct": _pct(sum(i in flags["stalled"] for i in ids), len(ids)),
                     "scans": sum(scans[i] for i in ids),
                     "median_transit_hours": round(statistics.median(transit), 1)
                     if transit else None}
    return out


def _rate(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


def _source(timelines: list[Timeline], driver: BaseDriver) -> dict[str, int]:
    """The file's own answer, for comparison only: delivered after the estimated date."""
    replayed = [t for t in timelines if t.ref in driver.orders and t.ref not in driver.broken]
    return {"delivered_after_estimate": sum(1 for t in replayed if t.delivered_at and
                                            t.promised_by and t.delivered_at > t.promised_by),
            "handed_over_never_delivered": sum(1 for t in replayed
                                               if t.handed_over_at and not t.delivered_at)}


def _examples(skipped: list[Skipped]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for s in skipped:
        if len(out[s.reason]) < 3:
            out[s.reason].append(f"row {s.row} ({s.ref})")
    return dict(out)


def _utc(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _pct(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0
