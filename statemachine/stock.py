"""Stock allocation policy: which warehouse(s) hold stock for an order.

Pure: it reads a snapshot of availability and returns a plan. The store applies the plan with
one atomic conditional update per (sku, warehouse) and retries with a fresh snapshot if a
concurrent order took the stock first, so the plan can be optimistic without ever overselling.

When the distance from the buyer to each warehouse is known (`km`), the nearest warehouse that
can serve the whole order wins, then the nearest split; a plan that skips the buyer's nearest
warehouse is a neighbour transfer (the manual's "Shanghai is out → Hangzhou ships"), and the
promise grows by a day for each full `km_per_day` of extra distance. Each choice says why.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from statemachine.errors import InsufficientStock


@dataclass(frozen=True, slots=True)
class Need:
    line_no: int
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Allocation:
    line_no: int
    sku: str
    warehouse: str
    quantity: int


Availability = Mapping[tuple[str, str], int]  # (sku, warehouse) -> on_hand - reserved
Distances = Mapping[str, float]  # warehouse -> km from the buyer (missing: unknown, far)


@dataclass(frozen=True, slots=True)
class AllocationChoice:
    """The plan, why it was chosen, and how many days it adds to the promise."""

    allocations: list[Allocation]
    reasons: tuple[str, ...] = ()
    extra_days: int = 0
    transfer: bool = False  # the buyer's nearest warehouse was skipped for a neighbour
    km: dict[str, float] = field(default_factory=dict)  # the chosen warehouses' distances


def plan_allocation(needs: Iterable[Need], available: Availability) -> list[Allocation]:
    """Prefer one warehouse that can serve the whole order; otherwise split line by line."""
    return choose_allocation(needs, available).allocations


def choose_allocation(needs: Iterable[Need], available: Availability,
                      km: Distances | None = None, km_per_day: float = 800.0
                      ) -> AllocationChoice:
    """Nearest whole-order warehouse, else the nearest split (without `km`: the warehouse
    with the most spare stock, as before); with the reasons and the promise's extra days."""
    needs, km = list(needs), dict(km or {})
    rank = _by_distance(km, available) if km else _by_spare_stock(_demand(needs), available)
    whole = _single_warehouse(needs, available, rank)
    if whole is not None:
        plan = [Allocation(n.line_no, n.sku, whole, n.quantity) for n in needs]
    else:
        plan = _split(needs, available, rank if km else None)
    return _explain(plan, needs, available, km, km_per_day)


def explain_plan(plan: Iterable[Allocation], needs: Iterable[Need], available: Availability,
                 km: Distances, km_per_day: float = 800.0) -> AllocationChoice:
    """What a plan already made means at these distances — the reasons and the promise's
    extra days, as `choose_allocation` gives them — for a buyer who moved (an address
    corrected after the stock was held where it is)."""
    return _explain(list(plan), list(needs), available, dict(km), km_per_day)


def _by_distance(km: Distances, available: Availability):
    return lambda wh: (km.get(wh, math.inf), wh)


def _by_spare_stock(totals: Mapping[str, int], available: Availability):
    # the most spare stock for these skus first, then by name so the choice is deterministic
    return lambda wh: (-sum(available.get((s, wh), 0) for s in totals), wh)


def _single_warehouse(needs: list[Need], available: Availability, rank) -> str | None:
    totals = _demand(needs)
    warehouses = {wh for (_, wh) in available}
    able = [wh for wh in warehouses
            if all(available.get((sku, wh), 0) >= qty for sku, qty in totals.items())]
    return min(able, key=rank) if able else None


def _split(needs: list[Need], available: Availability, rank=None) -> list[Allocation]:
    _check_totals(needs, available)
    left = dict(available)
    plan: list[Allocation] = []
    for need in needs:
        sources = sorted(((qty, wh) for (sku, wh), qty in left.items()
                          if sku == need.sku and qty > 0),
                         key=lambda p: rank(p[1]) if rank else (-p[0], p[1]))
        if sum(qty for qty, _ in sources) < need.quantity:
            raise InsufficientStock(need.sku, need.quantity, sum(q for q, _ in sources))
        missing = need.quantity
        for qty, wh in sources:
            take = min(qty, missing)
            plan.append(Allocation(need.line_no, need.sku, wh, take))
            left[(need.sku, wh)] -= take
            missing -= take
            if missing == 0:
                break
    return plan


def _check_totals(needs: list[Need], available: Availability) -> None:
    """A sku short over all its lines is reported with its whole demand, not line by line
    (3 + 3 asked of 4 is "6 requested over 2 lines, only 4 available", not "3 of 1")."""
    for sku, wanted in _demand(needs).items():
        there = sum(q for (s, _), q in available.items() if s == sku and q > 0)
        if there < wanted:
            lines = sum(1 for need in needs if need.sku == sku)
            raise InsufficientStock(sku, wanted, there, lines)


def _explain(plan: list[Allocation], needs: list[Need], available: Availability,
             km: dict[str, float], km_per_day: float) -> AllocationChoice:
    used = sorted({a.warehouse for a in plan}, key=lambda wh: (km.get(wh, math.inf), wh))
    if not km:
        how = "one warehouse" if len(used) == 1 else "split"
        return AllocationChoice(plan, (f"{how}: {', '.join(used)} (no buyer region known)",))
    nearest = min(km, key=lambda wh: (km[wh], wh))  # whether or not it stocks these skus
    reasons = []
    transfer = nearest not in used
    if transfer:
        short = sorted({n.sku for n in needs if available.get((n.sku, nearest), 0) < n.quantity})
        reasons.append(f"nearest warehouse {nearest} ({_km(km, nearest)}) is short of "
                       f"{', '.join(short)}: neighbour transfer")
    if len(used) == 1:
        reasons.append(f"whole order from {used[0]} ({_km(km, used[0])})")
    else:
        reasons.append("no warehouse can serve the whole order: split over " + ", ".join(
            f"{wh} ({_km(km, wh)})" for wh in used))
    farthest = max((km.get(wh, math.inf) for wh in used), default=0.0)
    extra = farthest - km.get(nearest, 0.0)
    days = 0 if extra <= 0 or math.isinf(extra) else int(extra // km_per_day)
    if days:
        reasons.append(f"promise +{days} day(s) for {extra:.0f} km beyond {nearest}")
    return AllocationChoice(plan, tuple(reasons), days, transfer,
                            {wh: km[wh] for wh in used if wh in km})


def _km(km: Mapping[str, float], wh: str) -> str:
    return f"{km[wh]:.0f} km" if wh in km and not math.isinf(km[wh]) else "distance unknown"


def _demand(needs: Iterable[Need]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for need in needs:
        totals[need.sku] = totals.get(need.sku, 0) + need.quantity
    return totals
