"""Stock allocation policy: which warehouse(s) hold stock for an order.

Pure: it reads a snapshot of availability and returns a plan. The store applies the plan with
one atomic conditional update per (sku, warehouse) and retries with a fresh snapshot if a
concurrent order took the stock first, so the plan can be optimistic without ever overselling.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

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


def plan_allocation(needs: Iterable[Need], available: Availability) -> list[Allocation]:
    """Prefer one warehouse that can serve the whole order; otherwise split line by line."""
    needs = list(needs)
    whole = _single_warehouse(needs, available)
    if whole is not None:
        return [Allocation(n.line_no, n.sku, whole, n.quantity) for n in needs]
    return _split(needs, available)


def _single_warehouse(needs: list[Need], available: Availability) -> str | None:
    totals = _demand(needs)
    warehouses = {wh for (_, wh) in available}
    able = [wh for wh in warehouses
            if all(available.get((sku, wh), 0) >= qty for sku, qty in totals.items())]
    if not able:
        return None
    # the most spare stock for these skus first, then by name so the choice is deterministic
    return min(able, key=lambda wh: (-sum(available.get((s, wh), 0) for s in totals), wh))


def _split(needs: list[Need], available: Availability) -> list[Allocation]:
    _check_totals(needs, available)
    left = dict(available)
    plan: list[Allocation] = []
    for need in needs:
        sources = sorted(((qty, wh) for (sku, wh), qty in left.items()
                          if sku == need.sku and qty > 0), key=lambda p: (-p[0], p[1]))
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


def _demand(needs: Iterable[Need]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for need in needs:
        totals[need.sku] = totals.get(need.sku, 0) + need.quantity
    return totals
